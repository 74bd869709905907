package config

import (
	"io"
	"time"

	"github.com/rs/zerolog"
)

// NewLogger returns the process logger: zerolog JSON on w (console format when LOG_FORMAT=console)
// at LOG_LEVEL, with a timestamp on every line.
func (c *Config) NewLogger(w io.Writer) zerolog.Logger {
	return NewLogger(w, c.LogFormat, c.LogLevel)
}

// NewLogger builds a logger for format "json" or "console" at level.
func NewLogger(w io.Writer, format string, level zerolog.Level) zerolog.Logger {
	if format == "console" {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.RFC3339, NoColor: true}
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger()
}
