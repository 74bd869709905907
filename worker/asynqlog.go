package worker

import (
	"fmt"

	"github.com/rs/zerolog"
)

// asynqLogger routes asynq's own log lines into our zerolog logger.
type asynqLogger struct{ log zerolog.Logger }

func (l asynqLogger) Debug(args ...any) {
	l.log.Debug().Str("component", "asynq").Msg(fmt.Sprint(args...))
}
func (l asynqLogger) Info(args ...any) {
	l.log.Info().Str("component", "asynq").Msg(fmt.Sprint(args...))
}
func (l asynqLogger) Warn(args ...any) {
	l.log.Warn().Str("component", "asynq").Msg(fmt.Sprint(args...))
}
func (l asynqLogger) Error(args ...any) {
	l.log.Error().Str("component", "asynq").Msg(fmt.Sprint(args...))
}
func (l asynqLogger) Fatal(args ...any) {
	l.log.Fatal().Str("component", "asynq").Msg(fmt.Sprint(args...))
}
