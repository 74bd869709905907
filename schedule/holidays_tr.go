package schedule

import "time"

// Türkiye's public holidays, as data.
//
// Fixed holidays: Law No. 2429 on national holidays and general holidays
// (Ulusal Bayram ve Genel Tatiller Hakkında Kanun): 1 January, 23 April,
// 1 May, 19 May, 15 July (since 2017, Law No. 6752), 30 August, 29 October.
// The same law makes the afternoon of 28 October (from 13:00) and the
// afternoon before each religious bayram (arife, from 13:00) holidays: those
// are the half days below. This package ends every half day at noon, a little before the legal 13:00, so that a run is never
// placed in the last hour before offices close.
//
// Religious holidays: first days of Ramazan Bayramı (3 days) and Kurban
// Bayramı (4 days) as published by the Presidency of Religious Affairs
// (Diyanet İşleri Başkanlığı) in its "Dini Günler" calendar and its list of
// official holidays (vakithesaplama.diyanet.gov.tr, "resmi tatiller"); the
// day before each is the arife. Checked against:
//   - 2025, 2026: Diyanet's 2025 and 2026 Dini Günler calendars as reported
//     by the Turkish press (e.g. 2026: arife 19 March, Ramazan Bayramı 20-22
//     March; arife 26 May, Kurban Bayramı 27-30 May);
//   - 2027-2030: two independent published tables (the Ruby "holidays" gem's
//     Diyanet overrides for 2021-2030, and a Turkish business-day table),
//     which agree on 2027, 2030 and Ramazan 2028 but not on Kurban 2028
//     (4 or 5 May), Ramazan 2029 (14 or 15 February) or Kurban 2029 (23 or
//     24 April). Those three were settled by computing the new moons and the
//     crescent's altitude and elongation under the Unified Hijri Calendar
//     criteria (Istanbul 2016) that Diyanet applies: the conjunction of
//     24 April 2028 is at 19:48 UTC, too late for a crescent that evening, so
//     Zilhicce begins 26 April and Kurban Bayramı is 5 May; the conjunction of
//     13 February 2029 (10:32 UTC) gives a crescent over the Americas that
//     evening, like 2025, 2027 and 2028, so Ramazan Bayramı is 14 February;
//     the conjunction of 13 April 2029 (21:42 UTC) puts Kurban Bayramı on
//     24 April.
//
// Dates for 2027-2030 are Diyanet's calculated calendar, not yet a decree:
// re-check them when each year's calendar is published, and add any one-off
// bridge days the government declares (idari izin) to the schedule file's
// holidays, which the built-in data never contains.

// HolidayDataFrom and HolidayDataTo are the first and last years for which
// the built-in data holds the religious holidays. Fixed holidays are known for
// every year; outside this range Ramazan and Kurban Bayramı are missing.
const (
	HolidayDataFrom = 2025
	HolidayDataTo   = 2030
)

// fixedHoliday is a holiday on the same date every year.
type fixedHoliday struct {
	month     time.Month
	day       int
	name      string
	kind      HolidayKind
	sinceYear int
}

var fixedHolidays = []fixedHoliday{
	{time.January, 1, "Yılbaşı", FullDay, 0},
	{time.April, 23, "Ulusal Egemenlik ve Çocuk Bayramı", FullDay, 0},
	{time.May, 1, "Emek ve Dayanışma Günü", FullDay, 0},
	{time.May, 19, "Atatürk'ü Anma, Gençlik ve Spor Bayramı", FullDay, 0},
	{time.July, 15, "Demokrasi ve Millî Birlik Günü", FullDay, 2017},
	{time.August, 30, "Zafer Bayramı", FullDay, 0},
	{time.October, 28, "Cumhuriyet Bayramı arifesi", HalfDay, 0},
	{time.October, 29, "Cumhuriyet Bayramı", FullDay, 0},
}

// bayram is one religious holiday: its first day and its length in days.
type bayram struct {
	name  string
	first Date
	days  int
}

// religiousHolidays holds Ramazan Bayramı (3 days) and Kurban Bayramı
// (4 days) for HolidayDataFrom..HolidayDataTo. The arife is the day before
// first.
var religiousHolidays = []bayram{
	{"Ramazan Bayramı", Date{2025, time.March, 30}, 3},
	{"Kurban Bayramı", Date{2025, time.June, 6}, 4},
	{"Ramazan Bayramı", Date{2026, time.March, 20}, 3},
	{"Kurban Bayramı", Date{2026, time.May, 27}, 4},
	{"Ramazan Bayramı", Date{2027, time.March, 9}, 3},
	{"Kurban Bayramı", Date{2027, time.May, 16}, 4},
	{"Ramazan Bayramı", Date{2028, time.February, 26}, 3},
	{"Kurban Bayramı", Date{2028, time.May, 5}, 4},
	{"Ramazan Bayramı", Date{2029, time.February, 14}, 3},
	{"Kurban Bayramı", Date{2029, time.April, 24}, 4},
	{"Ramazan Bayramı", Date{2030, time.February, 4}, 3},
	{"Kurban Bayramı", Date{2030, time.April, 13}, 4},
}

// TurkishHolidays returns Türkiye's built-in public holidays of year, full
// days and half days, in date order. When a half day falls on a full holiday
// (the arife of Kurban Bayramı 2029 is 23 April) only the full holiday is
// listed. Religious holidays are known only for HolidayDataFrom to
// HolidayDataTo.
func TurkishHolidays(year int) []Holiday {
	return NewCalendar(time.UTC).Holidays(year)
}
