package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// logVerdicts are the two verdicts drawn from the logs.
type logVerdicts struct {
	secrets, personal verdict
}

// secretNeedles are the strings no log (and no Redis file) may hold: the credentials, the
// signature scheme's name, and the base64 of the Authorization header's start. The header
// encodes "apiKey:K&randomKey:…", so only whole 3-byte groups of "apiKey:K" encode the same way
// inside it.
func secretNeedles() []string {
	head := "apiKey:" + apiKey
	head = head[:len(head)/3*3]
	return []string{apiKey, secretKey, "IYZWSv2", base64.StdEncoding.EncodeToString([]byte(head))}
}

// digitRun finds the digit runs where an IBAN's digits, an identity number or a phone number
// would show; each is looked up among the file's values, so nothing else can match.
var digitRun = regexp.MustCompile(`[0-9]{10,}`)

// scanLogs checks every process log (the workers', the commands', the sandbox's, redis-server's)
// for secrets and for the file's personal data unmasked, and Redis's AOF for secrets: the ledger
// holds request bodies, so personal data is expected there, but no credential.
func (r *rig) scanLogs(file []fileRow) (logVerdicts, error) {
	personal := personalValues(file)
	var sp, pp problems
	var logs, logBytes, aofBytes int
	needles := secretNeedles()
	err := filepath.WalkDir(r.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(r.dir, path)
		isLog := strings.HasSuffix(path, ".log")
		isAOF := strings.Contains(rel, "appendonlydir")
		if !isLog && !isAOF {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, n := range needles {
			if c := bytes.Count(b, []byte(n)); c > 0 {
				sp.add("%s holds %q %d times", rel, n, c)
			}
		}
		if isAOF {
			aofBytes += len(b)
			return nil
		}
		logs++
		logBytes += len(b)
		hits := 0
		var first string
		for _, m := range digitRun.FindAll(b, -1) {
			if personal[string(m)] {
				if hits == 0 {
					first = string(m)
				}
				hits++
			}
		}
		if hits > 0 {
			pp.add("%s holds %d unmasked IBAN, identity or phone numbers from the file (first: %s…)", rel, hits, first[:4])
		}
		return nil
	})
	if err != nil {
		return logVerdicts{}, fmt.Errorf("scan logs: %w", err)
	}
	scanned := fmt.Sprintf("%d logs (%.1f MB) and the AOF (%.1f MB) scanned", logs, float64(logBytes)/1e6, float64(aofBytes)/1e6)
	return logVerdicts{
		secrets: sp.verdict("no secret in logs (nor in Redis)", scanned,
			"looked for the API key, the secret key, \"IYZWSv2\" and base64(\"apiKey:<key>\")"),
		personal: pp.verdict("personal data masked in logs",
			fmt.Sprintf("%d logs scanned for the file's %d IBAN, identity and phone numbers", logs, len(personal))),
	}, nil
}

// personalValues are the digit strings of the file's IBANs, identity numbers and phone numbers,
// in every form a log could show them in.
func personalValues(file []fileRow) map[string]bool {
	out := map[string]bool{}
	for _, f := range file {
		v := f.recipientInfo
		switch f.recipientType {
		case "IBAN":
			if len(v) > 4 {
				out[v[4:]] = true // the digits after "TRcc"
				out[v[2:]] = true // check digits and BBAN
			}
		case "IDENTITY_NUMBER":
			out[v] = true
		case "PHONE":
			n := strings.TrimPrefix(strings.TrimPrefix(v, "+90"), "0")
			out[n], out["0"+n], out["90"+n] = true, true, true
		}
	}
	return out
}
