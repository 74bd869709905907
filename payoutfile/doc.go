// Package payoutfile reads payroll payout files (CSV, JSON Lines, JSON, XLSX) as a stream of
// validated payout items, reporting every problem of every row with a stable code and a message a
// payroll clerk can act on.
//
// A Reader never holds the whole file: CSV, JSON Lines and JSON are read with bounded buffers, and
// XLSX sheets are streamed out of the archive (only the workbook's shared-strings table is held in
// memory, as XLSX requires). The structures that grow with the file are the sets of item external
// IDs and of recipients seen so far, each kept as 16-byte hash slots (96-bit hash and first row)
// to detect duplicates: 16 to 32 MiB per million rows each; and, to name an earlier row by its
// line, one 8-byte entry per row whose line does not follow from the row before (a CSV row after a
// quoted line break), at most 8 MiB.
//
// # Rows
//
// Rows are numbered from 1 for the first data row; the header is not counted. Blank rows (every
// field empty or white space) are skipped but keep their number, so a CSV row number is the
// spreadsheet row minus one and an XLSX row number is the sheet row minus the header's sheet row.
// JSON Lines rows are line numbers (blank lines skipped but counted); JSON rows are the 1-based
// index in "items".
//
// Messages name a row the way the clerk finds it in the file as well: a CSV row by the line where
// it starts (Record.Line, RowError.Line; the row number plus one after a one-line header, more
// after a quoted value holding a line break or blank lines before the header), an XLSX problem by
// its cell, and every row by its item external ID when it has one:
//
//	row 19 (line 20, ID E-1042), amount: "10.005" has 3 decimals but TRY allows 2; …
//	row 19 (cell E20, ID E-1042), amount: …
//
// # Columns
//
// Header names (CSV, XLSX) and JSON keys are matched ignoring case, "_", "-" and spaces, so
// item_external_id, itemExternalId and "Item External ID" are the same column:
//
//	item_external_id   optional; at most 64 characters; unique in the file
//	recipient_type     required: IBAN, PHONE, IDENTITY_NUMBER or MEMBER_ID (any case)
//	recipient_info     required: checked and normalised for the type
//	recipient_name     required when recipient_type is IBAN; at most 140 characters
//	amount             required: a decimal > 0 with no more decimals than the currency allows
//	currency           required: ISO 4217 code in Options.Currencies (any case)
//	description        optional; at most 255 characters
//	non_withdrawable   optional: true/false, 1/0, yes/no, evet/hayır, doğru/yanlış
//
// Unknown columns are ignored with a warning. In JSON, amount is the API's object
// {"value": 100.50, "currency": "TRY"} (value a number or a string, kept exact), or a number or
// string with a separate currency key.
//
// # Rules
//
// Every problem of a row is reported, each as a RowError with a stable code (see the Code
// constants). Recipient info: an IBAN per NormalizeIBAN (INVALID_IBAN), a phone per NormalizePhone
// (INVALID_PHONE), an identity number per ValidTCKN (INVALID_IDENTITY_NUMBER), a member ID of 1 to
// 20 digits (INVALID_MEMBER_ID). Amounts per ParseAmount, greater than 0 and below 10¹⁵
// (INVALID_AMOUNT), with no more significant decimals than the currency's minor units
// (AMOUNT_SCALE; 10.500 TRY is accepted as 10.50, 10.005 is refused, nothing is rounded but an
// XLSX number cell to the 15 digits Excel shows, see Excel numbers), and not
// above Options.MaxAmount, the same number in every currency (AMOUNT_TOO_LARGE). Text
// (item external ID, name, description) must be UTF-8 (INVALID_ENCODING) without control,
// direction-override or zero-width characters (INVALID_CHARACTER), within its length
// (FIELD_TOO_LONG). A later row repeating an item external ID, compared exactly after trimming, is
// refused (DUPLICATE_ITEM_EXTERNAL_ID); the first row claims the ID even when it is invalid itself.
// A valid row paying a recipient (the same recipient type and normalised recipient info: an IBAN
// with or without spaces, a phone as 05… or +905…) that an earlier valid row pays too stays valid
// with a warning in Record.Warnings (DUPLICATE_RECIPIENT) and Record.SameRecipientAs naming the
// first row: salary and bonus in two rows are normal, one payment entered twice is not.
// A CSV row with more or fewer fields than the header is refused as a whole (WRONG_FIELD_COUNT):
// its columns cannot be trusted.
//
// # Excel numbers
//
// An XLSX number cell (no t attribute, or t="n": a plain number or a formula's cached result)
// holds a binary double that Excel writes with up to 17 significant digits: a cell that shows
// 82436.04 may hold 82436.039999999994. The amount column's number cells are read as Excel shows
// them, rounded (half away from zero, in exact decimal arithmetic) to 15 significant digits, before
// the scale rule: 82436.039999999994 is 82436.04, 0.30000000000000004 is 0.3, 1.0000000000000002
// is 1, while 10.005 keeps its three decimals and is refused (AMOUNT_SCALE). Text cells (shared
// and inline strings, a formula's text result t="str") are taken literally, and no other column
// is rounded: an identity number or phone stored as a number keeps its digits. Number formats are
// not applied: a cell formatted as a percentage that shows 15% holds 0.15 and is read as 0.15
// (an amount is never a percentage), and a date in another column is its serial number (46053
// for 2026-01-31), harmless where it is ignored. A formula whose result was never saved (files
// written by programs that do not calculate) is refused as MISSING_FIELD, saying so.
//
// # Limits
//
// Options.MaxFileBytes (default 512 MiB), Options.MaxFieldBytes (default 1024) and Options.MaxRows
// (default 5,000,000). A CSV or XLSX header has at most MaxColumns (256) columns (BAD_HEADER).
//
// CSV: a field longer than MaxFieldBytes stops the file (FIELD_TOO_LONG: it almost always means
// an unclosed quote), and so does a line or a record longer than 2 MiB. A row is split into at
// most one field more than its header; further fields are only counted (WRONG_FIELD_COUNT).
//
// JSON and JSON Lines: an item may not exceed 16·MaxFieldBytes + 4 KiB (ITEM_TOO_LARGE).
//
// XLSX (BAD_XLSX): an archive is refused before anything is extracted when it has more than 1,000
// entries, declares more than 8 GiB uncompressed in total, declares a part compressed more than
// 100:1 that would exceed 64 MiB, a first sheet over 1 GiB or shared strings over 256 MiB; parts
// are counted as they are decompressed and stop at the same sizes whatever the archive declared.
// A cell's text is cut at MaxFieldBytes as it is read, comments, entities and rich-text runs
// included, and a row with such a cut cell in a known column is refused (FIELD_TOO_LONG). A cell
// or shared string whose XML exceeds max(256 KiB, 4·MaxFieldBytes) stops the file, and so do a
// cell with a value beyond column IV, cells out of column order and elements nested more than 64
// deep. The shared strings, the one part held in memory, may hold 32 MiB of text in at most
// 4,194,304 strings, each cut at MaxFieldBytes.
//
// # Reading ahead
//
// The file is parsed on a goroutine of its own, up to 3 batches of 1,024 rows ahead of Next (a
// batch ends early once its values take 4 MiB); Next validates a batch at a time. Warnings and
// Defaults may reflect those rows already. Memory is then bounded by the limits above: one record
// (2 MiB at most for CSV), the rows read ahead, the duplicate set and an XLSX's shared strings.
package payoutfile
