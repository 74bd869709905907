package httpapi

import (
	"bufio"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// This file writes the Prometheus text exposition format (version 0.0.4): the few metric kinds
// masspayout needs, kept in a registry of its own.

// family is one metric with its samples, ready to be written.
type family struct {
	name, help, kind string // kind: counter, gauge or histogram
	samples          []sample
}

type sample struct {
	suffix string   // "", "_bucket", "_sum" or "_count"
	labels []string // name, value, name, value, ...
	value  float64
}

// writeFamilies writes fams in name order, their samples in the order given.
func writeFamilies(w io.Writer, fams []family) error {
	sort.SliceStable(fams, func(i, j int) bool { return fams[i].name < fams[j].name })
	bw := bufio.NewWriter(w)
	for _, f := range fams {
		bw.WriteString("# HELP " + f.name + " " + escapeHelp(f.help) + "\n")
		bw.WriteString("# TYPE " + f.name + " " + f.kind + "\n")
		for _, s := range f.samples {
			bw.WriteString(f.name + s.suffix)
			if len(s.labels) > 0 {
				bw.WriteByte('{')
				for i := 0; i+1 < len(s.labels); i += 2 {
					if i > 0 {
						bw.WriteByte(',')
					}
					bw.WriteString(s.labels[i] + `="` + escapeLabel(s.labels[i+1]) + `"`)
				}
				bw.WriteByte('}')
			}
			bw.WriteByte(' ')
			bw.WriteString(formatValue(s.value))
			bw.WriteByte('\n')
		}
	}
	return bw.Flush()
}

func formatValue(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

var (
	labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)

func escapeLabel(s string) string { return labelEscaper.Replace(s) }
func escapeHelp(s string) string  { return helpEscaper.Replace(s) }

// counterVec is a counter with labels, safe for concurrent use.
type counterVec struct {
	name, help string
	labels     []string
	mu         sync.Mutex
	values     map[string]float64 // key: label values joined by \xff
}

func newCounterVec(name, help string, labels ...string) *counterVec {
	return &counterVec{name: name, help: help, labels: labels, values: map[string]float64{}}
}

func (c *counterVec) add(v float64, values ...string) {
	k := strings.Join(values, "\xff")
	c.mu.Lock()
	c.values[k] += v
	c.mu.Unlock()
}

func (c *counterVec) family() family {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := family{name: c.name, help: c.help, kind: "counter"}
	for _, k := range sortedKeys(c.values) {
		f.samples = append(f.samples, sample{labels: pairs(c.labels, strings.Split(k, "\xff")), value: c.values[k]})
	}
	return f
}

// histogramVec is a histogram with labels, safe for concurrent use.
type histogramVec struct {
	name, help string
	labels     []string
	buckets    []float64 // upper bounds, ascending, without +Inf
	mu         sync.Mutex
	series     map[string]*histogram
}

type histogram struct {
	counts []uint64 // per bucket, not cumulative; the last is +Inf
	sum    float64
	count  uint64
}

func newHistogramVec(name, help string, buckets []float64, labels ...string) *histogramVec {
	return &histogramVec{name: name, help: help, labels: labels, buckets: buckets, series: map[string]*histogram{}}
}

func (h *histogramVec) observe(v float64, values ...string) {
	k := strings.Join(values, "\xff")
	i := sort.SearchFloat64s(h.buckets, v) // first bucket with bound >= v
	h.mu.Lock()
	s := h.series[k]
	if s == nil {
		s = &histogram{counts: make([]uint64, len(h.buckets)+1)}
		h.series[k] = s
	}
	s.counts[i]++
	s.sum += v
	s.count++
	h.mu.Unlock()
}

func (h *histogramVec) family() family {
	h.mu.Lock()
	defer h.mu.Unlock()
	f := family{name: h.name, help: h.help, kind: "histogram"}
	for _, k := range sortedKeys(h.series) {
		s := h.series[k]
		base := pairs(h.labels, strings.Split(k, "\xff"))
		var cum uint64
		for i, c := range s.counts {
			cum += c
			le := "+Inf"
			if i < len(h.buckets) {
				le = formatValue(h.buckets[i])
			}
			f.samples = append(f.samples, sample{suffix: "_bucket", labels: append(append([]string(nil), base...), "le", le), value: float64(cum)})
		}
		f.samples = append(f.samples,
			sample{suffix: "_sum", labels: base, value: s.sum},
			sample{suffix: "_count", labels: base, value: float64(s.count)})
	}
	return f
}

// pairs interleaves label names and values.
func pairs(names, values []string) []string {
	out := make([]string, 0, 2*len(names))
	for i, n := range names {
		v := ""
		if i < len(values) {
			v = values[i]
		}
		out = append(out, n, v)
	}
	return out
}
