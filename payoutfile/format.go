package payoutfile

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Format is the kind of a payout file.
type Format string

// Supported formats.
const (
	FormatCSV   Format = "csv"   // delimiter , ; or tab, detected from the header
	FormatJSONL Format = "jsonl" // JSON Lines: one item object per line
	FormatJSON  Format = "json"  // the iyzico init request shape, items streamed
	FormatXLSX  Format = "xlsx"  // first sheet of an Excel workbook
)

// Formats returns every supported format, in documentation order.
func Formats() []Format { return []Format{FormatCSV, FormatJSONL, FormatJSON, FormatXLSX} }

// ParseFormat reads a --format value: csv, jsonl, json or xlsx, in any case, with or without a
// leading dot; "ndjson" and "tsv" are accepted as jsonl and csv.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimPrefix(strings.TrimSpace(s), ".")) {
	case "csv", "tsv":
		return FormatCSV, nil
	case "jsonl", "ndjson":
		return FormatJSONL, nil
	case "json":
		return FormatJSON, nil
	case "xlsx":
		return FormatXLSX, nil
	case "xls":
		return "", fmt.Errorf("format %q: the old Excel .xls format is not supported; save the sheet as .xlsx or \"CSV UTF-8\"", s)
	}
	return "", fmt.Errorf("unknown format %q; the formats are csv, jsonl, json and xlsx", s)
}

// FormatFromName picks the format from a file name's extension (.csv, .tsv, .jsonl, .ndjson,
// .json, .xlsx; any case). The error names the supported extensions and the --format flag.
func FormatFromName(name string) (Format, error) {
	ext := strings.ToLower(filepath.Ext(name))
	switch ext {
	case ".csv", ".tsv", ".jsonl", ".ndjson", ".json", ".xlsx":
		return ParseFormat(ext)
	case ".xls":
		return "", fmt.Errorf("%s: the old Excel .xls format is not supported; save the sheet as .xlsx or \"CSV UTF-8\"", filepath.Base(name))
	}
	return "", fmt.Errorf("%s: cannot tell the format from the extension %q; use a .csv, .tsv, .jsonl, .ndjson, .json or .xlsx file, or pass --format csv|jsonl|json|xlsx",
		filepath.Base(name), ext)
}
