package declarative

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/connectors"
	"github.com/switchboard-dev/switchboard/internal/periodic"
	"go.yaml.in/yaml/v3"
)

// Errors the Loader returns; the API maps them to statuses.
var (
	ErrNotFound = errors.New("no such connector")
	ErrBuiltin  = errors.New("built-in connector")
	ErrConflict = errors.New("connector id conflict")
	ErrNoFolder = errors.New("no connectors folder is configured")
)

// disabledFile lists disabled connector ids, one a line, in the folder. Its
// leading dot keeps it out of the scan.
const disabledFile = ".disabled"

// Options configure a Loader.
type Options struct {
	// Dir is the folder of *.yaml, *.yml and *.json connector files; uploads
	// are written there. Files starting with a dot are ignored.
	Dir string
	// Interval is how often the folder is checked for changes (default 3s).
	Interval time.Duration
	Logger   *slog.Logger
}

// Loader keeps the declarative connectors of a folder in a registry: it
// loads every file at start and whenever one changes, each checked and
// tested before it is swapped in; a file that fails is logged and the
// previous good version stays. Connectors already in the registry when the
// Loader is made are built-in: no file may replace them. Any connector can
// be disabled (taken out of the registry) and enabled again; the disabled
// ids are kept in the folder so they survive restarts and reach every
// process that shares it.
type Loader struct {
	reg  *connectors.Registry
	opts Options
	log  *slog.Logger

	mu           sync.Mutex
	builtin      map[string]connectors.Connector
	entries      map[string]*entry     // by id, loaded from files
	files        map[string]*fileState // by file name
	disabled     map[string]bool       // by id
	disabledStat fileStamp             // of the .disabled file when last read
	now          func() time.Time
}

type entry struct {
	conn     *Connector
	file     string
	loadedAt time.Time
}

type fileStamp struct {
	modTime time.Time
	size    int64
}

type fileState struct {
	stamp fileStamp
	hash  string
	id    string // the id the file is registered under ("" if it never loaded)
	err   error  // why its current content was refused
}

// Info describes a connector the Loader manages.
type Info struct {
	ID       string          `json:"id"`
	Version  string          `json:"version,omitempty"`
	Hash     string          `json:"hash,omitempty"` // content hash of the file
	Origin   string          `json:"origin"`         // builtin or file
	File     string          `json:"file,omitempty"` // in the connectors folder
	Enabled  bool            `json:"enabled"`        // in the registry
	Tests    int             `json:"tests"`          // inline tests passed
	LoadedAt *time.Time      `json:"loaded_at,omitempty"`
	Spec     connectors.Spec `json:"spec"`
}

// NewLoader returns a Loader for reg. Call Start, or Scan yourself.
func NewLoader(reg *connectors.Registry, opts Options) *Loader {
	if opts.Interval <= 0 {
		opts.Interval = 3 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	l := &Loader{reg: reg, opts: opts, log: opts.Logger, builtin: map[string]connectors.Connector{},
		entries: map[string]*entry{}, files: map[string]*fileState{}, disabled: map[string]bool{}, now: time.Now}
	for _, s := range reg.Specs() {
		c, _ := reg.Get(s.ID)
		l.builtin[s.ID] = c
	}
	return l
}

// Dir is the connectors folder.
func (l *Loader) Dir() string { return l.opts.Dir }

// Start creates the folder if needed, loads it, and checks it for changes
// every Interval until ctx ends.
func (l *Loader) Start(ctx context.Context) error {
	if l.opts.Dir == "" {
		return nil
	}
	if err := os.MkdirAll(l.opts.Dir, 0o755); err != nil {
		return fmt.Errorf("connectors folder: %w", err)
	}
	l.Scan(ctx)
	go periodic.Run(ctx, l.opts.Interval, func(ctx context.Context) { l.Scan(ctx) })
	return nil
}

func isConnectorFile(name string) bool {
	if strings.HasPrefix(name, ".") {
		return false
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// Scan loads new and changed files, unregisters removed ones and applies
// the disabled list. It returns the problems of files refused in this pass
// (each also logged); connectors already loaded stay as they were.
func (l *Loader) Scan(ctx context.Context) []error {
	if l.opts.Dir == "" {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.readDisabled()
	dirents, err := os.ReadDir(l.opts.Dir)
	if err != nil {
		l.log.Error("reading the connectors folder", "dir", l.opts.Dir, "error", err)
		return []error{err}
	}
	present := map[string]bool{}
	for _, de := range dirents {
		if !de.IsDir() && isConnectorFile(de.Name()) {
			present[de.Name()] = true
		}
	}
	l.forgetRemoved(present)
	var refused []error
	for _, de := range dirents {
		name := de.Name()
		if !present[name] {
			continue
		}
		fi, err := de.Info()
		if err != nil {
			continue
		}
		stamp := fileStamp{fi.ModTime(), fi.Size()}
		st := l.files[name]
		if st != nil && st.stamp == stamp {
			continue
		}
		data, err := os.ReadFile(filepath.Join(l.opts.Dir, name))
		if err != nil {
			l.log.Error("reading a connector file", "file", name, "error", err)
			continue
		}
		hash := Hash(data)
		if st != nil && st.hash == hash {
			st.stamp = stamp
			continue
		}
		if st == nil {
			st = &fileState{}
			l.files[name] = st
		}
		st.stamp, st.hash = stamp, hash
		c, err := loadSafely(ctx, name, data)
		if err == nil {
			err = l.install(name, c)
		}
		st.err = err
		if err != nil {
			refused = append(refused, err)
			attrs := []any{"file", name, "error", err.Error()}
			if e := l.entries[st.id]; e != nil && e.file == name {
				attrs = append(attrs, "kept", st.id+" "+e.conn.Spec().Version+" "+e.conn.Hash())
			}
			l.log.Error("connector file refused; connectors already loaded stay", attrs...)
		}
	}
	return refused
}

// forgetRemoved unregisters the connectors of files that are gone. A file
// refused because another file held its id is tried again.
func (l *Loader) forgetRemoved(present map[string]bool) {
	removed := false
	for name, st := range l.files {
		if present[name] {
			continue
		}
		delete(l.files, name)
		if e := l.entries[st.id]; e != nil && e.file == name {
			delete(l.entries, st.id)
			l.reg.Remove(st.id)
			removed = true
			l.log.Info("connector file removed; connector unregistered", "file", name, "connector", st.id)
		}
	}
	if removed {
		for _, st := range l.files {
			if errors.Is(st.err, ErrConflict) {
				st.stamp, st.hash = fileStamp{}, ""
			}
		}
	}
}

// install registers c, loaded from file name. The caller holds l.mu.
func (l *Loader) install(name string, c *Connector) error {
	id := c.Spec().ID
	if _, ok := l.builtin[id]; ok {
		return fmt.Errorf("%s: %w %q cannot be replaced by a file", name, ErrBuiltin, id)
	}
	if e := l.entries[id]; e != nil && e.file != name {
		if _, alive := l.files[e.file]; alive {
			return fmt.Errorf("%s: %w: %q is already defined by %s", name, ErrConflict, id, e.file)
		}
	}
	st := l.files[name]
	if st == nil {
		st = &fileState{}
		l.files[name] = st
	}
	if st.id != "" && st.id != id {
		// The file now defines another connector: the old one goes.
		if e := l.entries[st.id]; e != nil && e.file == name {
			delete(l.entries, st.id)
			l.reg.Remove(st.id)
		}
	}
	if !l.disabled[id] {
		if err := l.reg.Replace(c); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	prev := l.entries[id]
	l.entries[id] = &entry{conn: c, file: name, loadedAt: l.now()}
	st.id = id
	attrs := []any{"connector", id, "file", name, "version", c.Spec().Version, "hash", c.Hash(), "tests", c.Tests()}
	if prev != nil {
		attrs = append(attrs, "replaced", prev.conn.Spec().Version+" "+prev.conn.Hash())
	}
	l.log.Info("connector loaded", attrs...)
	return nil
}

// Upload checks data (a YAML or JSON connector file; format is "yaml" or
// "json"), runs its inline tests, writes it to the folder as <id>.<format>
// and registers it. A file failing any check is refused with an *Error; an
// id owned by a built-in connector with ErrBuiltin.
func (l *Loader) Upload(ctx context.Context, data []byte, format string) (Info, error) {
	if l.opts.Dir == "" {
		return Info{}, ErrNoFolder
	}
	ext := ".yaml"
	if format == "json" {
		ext = ".json"
	}
	var peek struct {
		ID string `yaml:"id"`
	}
	name := "upload" + ext
	if yaml.Unmarshal(data, &peek) == nil && idPattern.MatchString(peek.ID) {
		name = peek.ID + ext
	}
	c, err := Load(ctx, name, data)
	if err != nil {
		return Info{}, err
	}
	id := c.Spec().ID
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.builtin[id]; ok {
		return Info{}, fmt.Errorf("%w %q cannot be replaced by an upload", ErrBuiltin, id)
	}
	if st := l.files[name]; st != nil && st.id != "" && st.id != id {
		return Info{}, fmt.Errorf("%w: the file %s holds connector %q", ErrConflict, name, st.id)
	}
	old := ""
	if e := l.entries[id]; e != nil && e.file != name {
		old = e.file
	}
	if err := os.MkdirAll(l.opts.Dir, 0o755); err != nil {
		return Info{}, fmt.Errorf("connectors folder: %w", err)
	}
	if err := writeFile(filepath.Join(l.opts.Dir, name), data); err != nil {
		return Info{}, err
	}
	if old != "" {
		// The connector moves to <id>.<ext>; the file it came from goes.
		if err := os.Remove(filepath.Join(l.opts.Dir, old)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return Info{}, fmt.Errorf("removing %s: %w", old, err)
		}
		delete(l.files, old)
	}
	st := &fileState{hash: c.Hash()}
	if fi, err := os.Stat(filepath.Join(l.opts.Dir, name)); err == nil {
		st.stamp = fileStamp{fi.ModTime(), fi.Size()}
	}
	if prev := l.files[name]; prev != nil {
		st.id = prev.id
	}
	l.files[name] = st
	if err := l.install(name, c); err != nil {
		st.err = err
		return Info{}, err
	}
	return l.info(id), nil
}

// writeFile replaces path atomically: a temporary file renamed over it.
func writeFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".upload-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", filepath.Base(path), err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", filepath.Base(path), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", filepath.Base(path), err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", filepath.Base(path), err)
	}
	return nil
}

// Delete removes a connector that came from a file: its file and its
// registration. Built-in connectors answer ErrBuiltin.
func (l *Loader) Delete(id string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.builtin[id]; ok {
		return fmt.Errorf("%w %q cannot be deleted (disable it instead)", ErrBuiltin, id)
	}
	e := l.entries[id]
	if e == nil {
		return fmt.Errorf("%w %q", ErrNotFound, id)
	}
	if err := os.Remove(filepath.Join(l.opts.Dir, e.file)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing %s: %w", e.file, err)
	}
	delete(l.files, e.file)
	delete(l.entries, id)
	l.reg.Remove(id)
	if l.disabled[id] {
		delete(l.disabled, id)
		if err := l.writeDisabled(); err != nil {
			return err
		}
	}
	l.log.Info("connector deleted", "connector", id, "file", e.file)
	return nil
}

// Disable takes a connector out of the registry: workflows using it fail
// until it is enabled again.
func (l *Loader) Disable(id string) (Info, error) { return l.setEnabled(id, false) }

// Enable puts a disabled connector back.
func (l *Loader) Enable(id string) (Info, error) { return l.setEnabled(id, true) }

func (l *Loader) setEnabled(id string, on bool) (Info, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lookup(id) == nil {
		return Info{}, fmt.Errorf("%w %q", ErrNotFound, id)
	}
	if l.disabled[id] == !on {
		return l.info(id), nil
	}
	next := map[string]bool{}
	for k := range l.disabled {
		next[k] = true
	}
	if on {
		delete(next, id)
	} else {
		next[id] = true
	}
	l.applyDisabled(next)
	if err := l.writeDisabled(); err != nil {
		return Info{}, err
	}
	l.log.Info("connector "+map[bool]string{true: "enabled", false: "disabled"}[on], "connector", id)
	return l.info(id), nil
}

// lookup returns the connector known by id, registered or not.
func (l *Loader) lookup(id string) connectors.Connector {
	if c, ok := l.builtin[id]; ok {
		return c
	}
	if e := l.entries[id]; e != nil {
		return e.conn
	}
	return nil
}

// applyDisabled moves connectors in or out of the registry to match next.
func (l *Loader) applyDisabled(next map[string]bool) {
	for id := range next {
		if !l.disabled[id] {
			l.reg.Remove(id)
		}
	}
	for id := range l.disabled {
		if !next[id] {
			if c := l.lookup(id); c != nil {
				_ = l.reg.Replace(c) // valid: it was registered before
			}
		}
	}
	l.disabled = next
}

func (l *Loader) readDisabled() {
	path := filepath.Join(l.opts.Dir, disabledFile)
	fi, err := os.Stat(path)
	var stamp fileStamp
	if err == nil {
		stamp = fileStamp{fi.ModTime(), fi.Size()}
	}
	if stamp == l.disabledStat {
		return
	}
	next := map[string]bool{}
	if f, err := os.Open(path); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if id := strings.TrimSpace(sc.Text()); id != "" && !strings.HasPrefix(id, "#") {
				next[id] = true
			}
		}
		f.Close()
	}
	l.disabledStat = stamp
	l.applyDisabled(next)
}

func (l *Loader) writeDisabled() error {
	if l.opts.Dir == "" {
		return nil
	}
	ids := make([]string, 0, len(l.disabled))
	for id := range l.disabled {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	body := "# Connectors disabled by an admin, one id a line.\n" + strings.Join(ids, "\n") + "\n"
	if err := os.MkdirAll(l.opts.Dir, 0o755); err != nil {
		return err
	}
	path := filepath.Join(l.opts.Dir, disabledFile)
	if err := writeFile(path, []byte(body)); err != nil {
		return err
	}
	if fi, err := os.Stat(path); err == nil {
		l.disabledStat = fileStamp{fi.ModTime(), fi.Size()}
	}
	return nil
}

// Info describes the connector with the given id.
func (l *Loader) Info(id string) (Info, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lookup(id) == nil {
		return Info{}, fmt.Errorf("%w %q", ErrNotFound, id)
	}
	return l.info(id), nil
}

// List describes every connector the Loader knows, by id.
func (l *Loader) List() []Info {
	l.mu.Lock()
	defer l.mu.Unlock()
	var ids []string
	for id := range l.builtin {
		ids = append(ids, id)
	}
	for id := range l.entries {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]Info, 0, len(ids))
	for _, id := range ids {
		out = append(out, l.info(id))
	}
	return out
}

// Refused lists the files whose current content was refused, with why.
func (l *Loader) Refused() map[string]error {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]error{}
	for name, st := range l.files {
		if st.err != nil {
			out[name] = st.err
		}
	}
	return out
}

func (l *Loader) info(id string) Info {
	c := l.lookup(id)
	in := Info{ID: id, Origin: "builtin", Enabled: !l.disabled[id], Spec: c.Spec(), Version: c.Spec().Version}
	if d, ok := c.(*Connector); ok {
		in.Hash, in.Tests = d.Hash(), d.Tests()
	}
	if e := l.entries[id]; e != nil {
		in.Origin, in.File = "file", e.file
		t := e.loadedAt
		in.LoadedAt = &t
	}
	return in
}

// loadSafely is Load that turns a panic into the file's error: one bad file
// in the folder must never stop the process.
func loadSafely(ctx context.Context, name string, data []byte) (c *Connector, err error) {
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("%s: could not be read (%v)", name, r)
		}
	}()
	return Load(ctx, name, data)
}
