// Package schedule decides when scheduled payroll runs happen: a business-day
// calendar for Türkiye (weekends, fixed public holidays, Ramazan and Kurban
// Bayramı, half-day eves), the YAML schedule file read by `masspayout
// scheduler`, and the pure functions that turn both into run times and batch
// IDs.
//
// Everything here is pure: no clock is read, no file is touched except by
// Load, nothing is stored. The scheduler loop passes the current time in.
//
// # Business days and business time
//
// A business day is a Monday to Friday that is not a public holiday. A
// half-day eve (arife: the day before Ramazan and Kurban Bayramı, and
// 28 October) is a business day until noon: local times before 12:00 are
// business time, 12:00 and later are not. A rule such as
// "last-business-day 14:00" therefore skips an arife and runs on the
// business day before it, while "last-business-day 10:00" runs on the arife.
//
// # Time zones
//
// Every date is a civil date in the file's time zone (default
// Europe/Istanbul), and every run time is built with that *time.Location, so
// it prints with the zone's offset (+03:00 for Türkiye). No offset is
// hard-coded. Loading a zone needs the IANA time zone database on the host or
// the time/tzdata package linked into the binary.
package schedule
