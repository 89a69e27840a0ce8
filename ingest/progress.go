package ingest

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Progress draws a progress line on a terminal — phase, bar, percent, records, rate and
// time left — refreshed four times a second. On anything that is not a terminal it draws
// nothing. A nil *Progress is valid and does nothing.
type Progress struct {
	w     io.Writer
	now   func() time.Time
	every time.Duration

	bytes   atomic.Int64
	records atomic.Int64

	mu    sync.Mutex
	label string
	total int64
	start time.Time
	stop  chan struct{}
	done  chan struct{}
}

// NewProgress returns a Progress drawing on w when w is a terminal (a character device),
// and nil otherwise.
func NewProgress(w io.Writer) *Progress {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	return &Progress{w: w, now: time.Now, every: 250 * time.Millisecond}
}

// NewProgressCounter returns a Progress that draws nothing and only counts, for a
// caller that reports progress another way (Snapshot).
func NewProgressCounter() *Progress {
	return &Progress{now: time.Now}
}

// ProgressState is a Progress at one moment: the phase, its input bytes read out of
// TotalBytes (0 when unknown) and the records handled in it.
type ProgressState struct {
	Phase             string
	Bytes, TotalBytes int64
	Records           int64
}

// Snapshot returns the current state (the zero ProgressState for a nil Progress).
func (p *Progress) Snapshot() ProgressState {
	if p == nil {
		return ProgressState{}
	}
	p.mu.Lock()
	st := ProgressState{Phase: p.label, TotalBytes: p.total}
	p.mu.Unlock()
	st.Bytes, st.Records = p.bytes.Load(), p.records.Load()
	return st
}

// Start begins a phase over total bytes of input (0 when unknown: no bar, no ETA).
func (p *Progress) Start(label string, total int64) {
	if p == nil {
		return
	}
	p.Finish()
	p.mu.Lock()
	p.label, p.total, p.start = label, total, p.now()
	p.bytes.Store(0)
	p.records.Store(0)
	if p.w == nil { // a counter: nothing to draw
		p.mu.Unlock()
		return
	}
	p.stop, p.done = make(chan struct{}), make(chan struct{})
	stop, done := p.stop, p.done
	p.mu.Unlock()
	go func() {
		defer close(done)
		t := time.NewTicker(p.every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				p.draw(false)
			}
		}
	}()
}

// Finish ends the current phase with a last full line.
func (p *Progress) Finish() {
	if p == nil {
		return
	}
	p.mu.Lock()
	stop, done := p.stop, p.done
	p.stop, p.done = nil, nil
	p.mu.Unlock()
	if stop == nil {
		return
	}
	close(stop)
	<-done
	p.draw(true)
}

// Reader returns r, counting what is read from it as the phase's input bytes (r itself
// when p is nil).
func (p *Progress) Reader(r io.Reader) io.Reader {
	if p == nil {
		return r
	}
	return progressReader{r, p}
}

type progressReader struct {
	r io.Reader
	p *Progress
}

func (pr progressReader) Read(b []byte) (int, error) {
	n, err := pr.r.Read(b)
	pr.p.addBytes(int64(n))
	return n, err
}

func (p *Progress) addBytes(n int64) {
	if p != nil {
		p.bytes.Add(n)
	}
}

func (p *Progress) addRecords(n int64) {
	if p != nil {
		p.records.Add(n)
	}
}

func (p *Progress) draw(final bool) {
	p.mu.Lock()
	label, total, start := p.label, p.total, p.start
	p.mu.Unlock()
	fmt.Fprint(p.w, "\r\x1b[K"+progressLine(label, total, p.bytes.Load(), p.records.Load(), p.now().Sub(start), final))
	if final {
		fmt.Fprintln(p.w)
	}
}

// progressLine renders one state: "writing  [=======>      ]  52%  1,234,567 records  245,000/s  ETA 4s".
func progressLine(label string, total, done, records int64, elapsed time.Duration, final bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-10s", label)
	frac := -1.0
	if total > 0 {
		frac = min(1, float64(done)/float64(total))
		if final {
			frac = 1
		}
		const width = 24
		full := int(frac * width)
		bar := strings.Repeat("=", full)
		if full < width {
			bar += ">" + strings.Repeat(" ", width-full-1)
		}
		fmt.Fprintf(&b, " [%s] %3.0f%%", bar, frac*100)
	}
	fmt.Fprintf(&b, "  %s records", groupDigits(records))
	if secs := elapsed.Seconds(); secs > 0 {
		fmt.Fprintf(&b, "  %s/s", groupDigits(int64(float64(records)/secs)))
	}
	switch {
	case final:
		fmt.Fprintf(&b, "  in %s", elapsed.Round(100*time.Millisecond))
	case frac > 0.01:
		eta := time.Duration(float64(elapsed) * (1 - frac) / frac)
		fmt.Fprintf(&b, "  ETA %s", eta.Round(time.Second))
	}
	return b.String()
}

// groupDigits writes n with thousands separators: 1234567 → "1,234,567".
func groupDigits(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + groupDigits(-n)
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
