package api

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/switchboard-dev/switchboard/internal/flows"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/trigger/webhook"
)

func (s *server) hook(c *gin.Context)     { s.receive(c, false) }
func (s *server) hookTest(c *gin.Context) { s.receive(c, true) }

func (s *server) receive(c *gin.Context, test bool) {
	start := time.Now()
	defer func() {
		s.Prometheus.WebhookReply.WithLabelValues(strconv.Itoa(c.Writer.Status())).Observe(time.Since(start).Seconds())
	}()
	reply, err := s.Webhooks.Receive(c.Request.Context(), c.Param("token"), c.Request, test)
	if err != nil {
		var we *webhook.Error
		if !errors.As(err, &we) {
			fail(c, err)
			return
		}
		if len(we.Allow) > 0 {
			c.Header("Allow", strings.Join(we.Allow, ", "))
		}
		if we.RetryAfter > 0 {
			c.Header("Retry-After", strconv.Itoa(int(we.RetryAfter.Seconds())))
		}
		problem(c, we.Status, we.Reason)
		return
	}
	for k, vs := range reply.Header {
		for _, v := range vs {
			c.Writer.Header().Add(k, v)
		}
	}
	if s, ok := reply.Body.(string); ok {
		c.String(reply.Status, "%s", s)
		return
	}
	c.JSON(reply.Status, reply.Body)
}

type inboxView struct {
	ID         string    `json:"id"`
	ReceivedAt string    `json:"received_at"`
	Method     string    `json:"method"`
	Path       string    `json:"path"`
	Headers    headerMap `json:"headers"`
	Query      headerMap `json:"query"`
	Body       string    `json:"body"`        // as text: NUL and invalid UTF-8 shown as U+FFFD
	BodyBase64 string    `json:"body_base64"` // the bytes received (up to 64 KiB), standard base64
	BodySize   int       `json:"body_size"`
	SourceIP   string    `json:"source_ip"`
	Verdict    string    `json:"verdict"`
	Reason     string    `json:"reason"`
	RunID      *string   `json:"run_id"`
}

var verdicts = map[string]bool{store.VerdictAccepted: true, store.VerdictRejected: true, store.VerdictIgnored: true,
	store.VerdictCaptured: true, store.VerdictDuplicate: true}

func (s *server) inbox(c *gin.Context) {
	p, ok := page(c)
	if !ok {
		return
	}
	f := store.InboxFilter{WorkflowID: c.Param("id"), Verdict: c.Query("verdict"), Page: p}
	if f.Verdict != "" && !verdicts[f.Verdict] {
		problem(c, http.StatusBadRequest, "verdict must be one of accepted, rejected, ignored, duplicate, captured")
		return
	}
	if _, err := s.Store.GetWorkflow(c.Request.Context(), f.WorkflowID); err != nil {
		fail(c, err)
		return
	}
	rows, next, err := s.Store.ListInbound(c.Request.Context(), f)
	if err != nil {
		fail(c, err)
		return
	}
	items := make([]inboxView, len(rows))
	for i, r := range rows {
		items[i] = inboxView{ID: r.ID, ReceivedAt: r.ReceivedAt.Format("2006-01-02T15:04:05.000Z07:00"), Method: r.Method,
			Path: redactToken(r.Path), Headers: headerMap(raw(r.Headers)), Query: headerMap(raw(r.Query)), Body: r.Body, BodyBase64: base64.StdEncoding.EncodeToString(r.BodyRaw), BodySize: r.BodySize,
			SourceIP: r.SourceIP, Verdict: r.Verdict, Reason: r.Reason, RunID: r.RunID}
	}
	c.JSON(http.StatusOK, Page[inboxView]{Items: items, NextCursor: next})
}

// redactToken hides most of the token in a logged /hooks/ path.
func redactToken(p string) string {
	rest, ok := strings.CutPrefix(p, "/hooks/")
	if !ok || len(rest) < 8 {
		return p
	}
	return "/hooks/" + rest[:4] + "…"
}

func (s *server) rotateToken(c *gin.Context) {
	tok, err := flows.NewToken()
	if err != nil {
		fail(c, err)
		return
	}
	if err := s.Store.RotateWebhookToken(c.Request.Context(), c.Param("id"), tok); err != nil {
		fail(c, err)
		return
	}
	v, err := s.Flows.Get(c.Request.Context(), c.Param("id"))
	reply(c, http.StatusOK, v, err)
}

func (s *server) sample(c *gin.Context) {
	data, at, err := s.Store.GetSample(c.Request.Context(), c.Param("id"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, sampleView{Sample: rawTrigger(raw(data)), CapturedAt: at})
}
