package httpapi

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/masspayout/masspayout/payoutfile"
)

// mediaTypeXLSX is the media type of an Excel workbook.
const mediaTypeXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// formatsByMediaType maps the Content-Types POST /v1/batches accepts to payout file formats.
var formatsByMediaType = map[string]payoutfile.Format{
	"text/csv":                  payoutfile.FormatCSV,
	"application/csv":           payoutfile.FormatCSV,
	"text/tab-separated-values": payoutfile.FormatCSV,
	"application/x-ndjson":      payoutfile.FormatJSONL,
	"application/jsonl":         payoutfile.FormatJSONL,
	"application/jsonlines":     payoutfile.FormatJSONL,
	"application/json":          payoutfile.FormatJSON,
	mediaTypeXLSX:               payoutfile.FormatXLSX,
}

// upload is a payout file received over HTTP, spooled to a temporary file that only this process
// names: the client's file name is display metadata, never a path.
type upload struct {
	file   *os.File
	name   string // display name: the client's file name, cleaned, or "upload.<format>"
	format payoutfile.Format
	size   int64
}

// close removes the temporary file.
func (u *upload) close() {
	u.file.Close()
	os.Remove(u.file.Name())
}

// receive reads the request's payout file — the body itself with its Content-Type, or the part
// "file" of a multipart/form-data body — into a temporary file in dir, at most limit bytes
// (http.MaxBytesReader: a larger body is a 413). forced, when not empty, is the format asked for
// with ?format=. The first bytes are sniffed so that a ZIP announced as CSV, or a text announced as
// XLSX, is refused (415) before anything reads it.
func receive(w http.ResponseWriter, r *http.Request, dir string, limit int64, forced payoutfile.Format) (*upload, error) {
	u, _, err := receiveForm(w, r, dir, limit, forced, nil)
	return u, err
}

// receiveForm is receive that also returns a multipart form's fields before the part "file" (at
// most maxFieldBytes each) and, when before is not nil, calls it with them before a byte of the
// file is read: an error from before is returned as it is.
func receiveForm(w http.ResponseWriter, r *http.Request, dir string, limit int64, forced payoutfile.Format, before func(url.Values) error) (*upload, url.Values, error) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil, nil, errorf(http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE",
			"the request has no Content-Type; send the file as text/csv, application/x-ndjson, application/json or %s, or as multipart/form-data field \"file\"", mediaTypeXLSX)
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return nil, nil, errorf(http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", "the Content-Type %q cannot be read", ct)
	}
	body := http.MaxBytesReader(w, r.Body, limit)
	u := &upload{}
	fields := url.Values{}
	var src io.Reader = body
	if mt == "multipart/form-data" {
		part, err := filePart(body, params["boundary"], fields)
		if err != nil {
			return nil, nil, err
		}
		defer part.Close()
		src = part
		u.name = displayName(part.FileName())
		mt, _, _ = mime.ParseMediaType(part.Header.Get("Content-Type"))
	}
	u.format = forced
	if u.format == "" {
		u.format = formatsByMediaType[mt]
	}
	// Browsers send what the desktop maps the extension to: nothing, octet-stream, or Excel's
	// type for a .csv on Windows with Excel installed; the file name then says the format.
	if u.format == "" && u.name != "" && (mt == "" || mt == "application/octet-stream" || mt == "application/vnd.ms-excel") {
		u.format, _ = payoutfile.FormatFromName(u.name)
	}
	if before != nil {
		if err := before(fields); err != nil {
			return nil, nil, err
		}
	}
	if u.format == "" {
		return nil, nil, errorf(http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE",
			"cannot tell the file's format from the Content-Type %q; send text/csv, application/x-ndjson, application/json or %s, or add ?format=csv|jsonl|json|xlsx", mt, mediaTypeXLSX)
	}
	if u.name == "" {
		u.name = "upload." + string(u.format)
	}
	u.file, err = os.CreateTemp(dir, "masspayout-upload-*")
	if err != nil {
		return nil, nil, err
	}
	u.size, err = io.Copy(u.file, src)
	if err == nil {
		err = sniff(u.file, u.format)
	}
	if err != nil {
		u.close()
		return nil, nil, err
	}
	return u, fields, nil
}

// maxFieldBytes bounds one form field before the file part (a CSRF token, a checkbox).
const maxFieldBytes = 1024

// filePart finds the form field "file" of a multipart body, keeping the fields before it in
// fields (at most maxFieldBytes each; longer ones are cut).
func filePart(body io.Reader, boundary string, fields url.Values) (*multipart.Part, error) {
	if boundary == "" {
		return nil, errorf(http.StatusBadRequest, "BAD_MULTIPART", "the multipart/form-data Content-Type has no boundary")
	}
	mr := multipart.NewReader(body, boundary)
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil, errorf(http.StatusBadRequest, "MISSING_FILE", "the form has no field \"file\"; send the payout file as the form field named file")
		}
		var (
			mbe *http.MaxBytesError
			se  *slowBodyError
		)
		if errors.As(err, &mbe) || errors.As(err, &se) {
			return nil, err
		}
		if err != nil {
			return nil, errorf(http.StatusBadRequest, "BAD_MULTIPART", "the multipart/form-data body cannot be read: %v", err)
		}
		if part.FormName() == "file" {
			return part, nil
		}
		v, err := io.ReadAll(io.LimitReader(part, maxFieldBytes))
		if errors.As(err, &mbe) || errors.As(err, &se) {
			return nil, err
		}
		if name := part.FormName(); name != "" && len(fields) < 32 {
			fields.Add(name, string(v))
		}
		part.Close()
	}
}

// sniff checks the spooled file's first bytes against its announced format.
func sniff(f *os.File, format payoutfile.Format) error {
	head := make([]byte, 512)
	n, err := f.ReadAt(head, 0)
	if err != nil && err != io.EOF {
		return err
	}
	head = head[:n]
	isZip := bytes.HasPrefix(head, []byte("PK\x03\x04")) || bytes.HasPrefix(head, []byte("PK\x05\x06"))
	detected := http.DetectContentType(head)
	switch {
	case format == payoutfile.FormatXLSX && n > 0 && !isZip:
		return errorf(http.StatusUnsupportedMediaType, "CONTENT_MISMATCH",
			"the file was announced as an XLSX workbook but is not one (it looks like %s); send it with its real Content-Type", describe(detected))
	case format != payoutfile.FormatXLSX && isZip:
		return errorf(http.StatusUnsupportedMediaType, "CONTENT_MISMATCH",
			"the file was announced as %s but is a ZIP archive (an XLSX workbook?); send a workbook as %s", format, mediaTypeXLSX)
	case format != payoutfile.FormatXLSX && !textual(detected):
		return errorf(http.StatusUnsupportedMediaType, "CONTENT_MISMATCH",
			"the file was announced as %s but looks like %s; export the payroll as CSV, JSON or XLSX", format, describe(detected))
	}
	return nil
}

// textual reports whether a sniffed type may be a text payout file. Unrecognised bytes
// ("application/octet-stream") are left to payoutfile, whose messages say more.
func textual(detected string) bool {
	mt, _, _ := mime.ParseMediaType(detected)
	return strings.HasPrefix(mt, "text/") || mt == "application/json" || mt == "application/octet-stream"
}

func describe(detected string) string {
	mt, _, _ := mime.ParseMediaType(detected)
	switch {
	case strings.HasPrefix(mt, "text/"):
		return "text"
	case mt == "application/octet-stream":
		return "unrecognised binary data"
	}
	return mt
}

// maxNameRunes bounds a display name.
const maxNameRunes = 100

// displayName cleans a client's file name for display and the audit list: the last path element
// only, no control or invisible characters, valid UTF-8, at most maxNameRunes runes. It is never
// used as a path.
func displayName(s string) string {
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		s = s[i+1:]
	}
	s = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > maxNameRunes {
		s = string([]rune(s)[:maxNameRunes])
	}
	if strings.Trim(s, ".") == "" {
		return ""
	}
	return s
}
