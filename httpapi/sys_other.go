//go:build !unix

package httpapi

// openFileLimit is unknown here: NewServer uses its fallback cap.
func openFileLimit() (uint64, bool) { return 0, false }

// freeDisk is unknown here: uploads are not checked against free space.
func freeDisk(string) (int64, bool) { return 0, false }
