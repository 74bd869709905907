package iyzico

import (
	"encoding/json"
	"fmt"
)

// MarshalInit returns the body of an init request: compact JSON, fields in the documented order,
// amounts as JSON numbers with exactly their digits (100.50 stays 100.50), '<', '>' and '&'
// escaped as \u003c, \u003e, \u0026. The same request always gives the same bytes; build them once
// per chunk, store them and send them with Client.InitRaw on every attempt. A nil request, an empty
// ExternalID or no items is refused with ErrInvalidRequest.
func MarshalInit(req *InitRequest) ([]byte, error) {
	switch {
	case req == nil:
		return nil, fmt.Errorf("%w: nil init request", ErrInvalidRequest)
	case req.ExternalID == "":
		return nil, fmt.Errorf("%w: init request without externalId", ErrInvalidRequest)
	case len(req.Items) == 0:
		return nil, fmt.Errorf("%w: init request %s without items", ErrInvalidRequest, req.ExternalID)
	}
	b, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("%w: init request %s: %v", ErrInvalidRequest, req.ExternalID, err)
	}
	return b, nil
}
