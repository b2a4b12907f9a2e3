package cronspec

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Describe returns a short English sentence for common specs, for the UI:
// "Every 5 minutes", "Every day at 02:30", "Every Monday at 09:00",
// "Every weekday at 09:00 and 17:00", "On day 1 of every month at 00:00".
// Anything else (and an invalid spec) is returned as the spec itself. The
// time zone is not part of the sentence.
func Describe(spec string) string {
	spec = strings.TrimSpace(spec)
	s, err := Parse(spec, "")
	if err != nil {
		return spec
	}
	if d, ok := s.Interval(); ok {
		return "Every " + durationPhrase(d)
	}
	if out := describeCron(s); out != "" {
		return out
	}
	return spec
}

func durationPhrase(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return countPhrase(int(d/time.Hour), "hour")
	case d%time.Minute == 0:
		return countPhrase(int(d/time.Minute), "minute")
	default:
		return countPhrase(int(d/time.Second), "second")
	}
}

func countPhrase(n int, unit string) string {
	if n == 1 {
		return unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// describeCron works from the parsed bit sets, so names, ranges and lists
// are understood alike. It returns "" for forms it has no sentence for.
func describeCron(s *Schedule) string {
	c := s.cron
	secs, mins, hours := members(c.Second, 0, 59), members(c.Minute, 0, 59), members(c.Hour, 0, 23)
	doms, months, dows := members(c.Dom, 1, 31), members(c.Month, 1, 12), members(c.Dow, 0, 6)
	const starBit = 1 << 63 // robfig marks "*" and "?" with the top bit
	domAll, monAll, dowAll := len(doms) == 31, len(months) == 12, len(dows) == 7
	// robfig (like Vixie cron) matches day-of-month OR day-of-week when both
	// are restricted without a star; no sentence for that.
	if c.Dom&starBit == 0 && c.Dow&starBit == 0 && !(domAll || dowAll) {
		return ""
	}
	everyDay := domAll && monAll && dowAll

	// Repeating forms: "Every N seconds/minutes/hours", every day only.
	if everyDay {
		secStep, minStep, hourStep := step(secs, 60), step(mins, 60), step(hours, 24)
		switch {
		case secStep > 0 && len(mins) == 60 && len(hours) == 24:
			return "Every " + countPhrase(secStep, "second")
		case isOnly(secs, 0) && minStep > 0 && len(hours) == 24:
			return "Every " + countPhrase(minStep, "minute")
		case isOnly(secs, 0) && len(mins) == 1 && hourStep > 0:
			phrase := "Every " + countPhrase(hourStep, "hour")
			if mins[0] != 0 {
				phrase += fmt.Sprintf(" at minute %d", mins[0])
			}
			return phrase
		}
	}

	// Time-of-day forms: a few exact times on chosen days.
	if len(secs) != 1 || len(mins)*len(hours) > 4 {
		return ""
	}
	var times []string
	for _, h := range hours {
		for _, m := range mins {
			t := fmt.Sprintf("%02d:%02d", h, m)
			if secs[0] != 0 {
				t += fmt.Sprintf(":%02d", secs[0])
			}
			times = append(times, t)
		}
	}
	at := " at " + joinAnd(times)
	switch {
	case everyDay:
		return "Every day" + at
	case domAll && monAll:
		return "Every " + weekdayPhrase(dows) + at
	case dowAll && monAll && len(doms) <= 4:
		return fmt.Sprintf("On %s of every month%s", dayPhrase(doms), at)
	case dowAll && len(months) == 1 && len(doms) == 1:
		return fmt.Sprintf("Every year on %s %d%s", time.Month(months[0]), doms[0], at)
	}
	return ""
}

func members(bits uint64, lo, hi int) []int {
	var out []int
	for i := lo; i <= hi; i++ {
		if bits&(1<<uint(i)) != 0 {
			out = append(out, i)
		}
	}
	return out
}

// step returns n when set is {0, n, 2n, ...} with at least two members,
// covering a cycle of size cycle evenly (n divides cycle); 1 for the full
// set; 0 otherwise.
func step(set []int, cycle int) int {
	if len(set) < 2 || set[0] != 0 || cycle%len(set) != 0 {
		return 0
	}
	n := cycle / len(set)
	for i, v := range set {
		if v != i*n {
			return 0
		}
	}
	return n
}

func isOnly(set []int, v int) bool { return len(set) == 1 && set[0] == v }

func weekdayPhrase(dows []int) string {
	if slices.Equal(dows, []int{1, 2, 3, 4, 5}) {
		return "weekday"
	}
	// Monday first, Sunday last.
	order := slices.Clone(dows)
	slices.SortFunc(order, func(a, b int) int { return (a+6)%7 - (b+6)%7 })
	names := make([]string, len(order))
	for i, d := range order {
		names[i] = time.Weekday(d).String()
	}
	return joinAnd(names)
}

func dayPhrase(doms []int) string {
	if len(doms) == 1 {
		return fmt.Sprintf("day %d", doms[0])
	}
	days := make([]string, len(doms))
	for i, d := range doms {
		days[i] = fmt.Sprint(d)
	}
	return "days " + joinAnd(days)
}

func joinAnd(items []string) string {
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}
