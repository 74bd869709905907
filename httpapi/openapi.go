package httpapi

import (
	_ "embed"
	"net/http"
)

// openAPI is the OpenAPI 3 description of every route (openapi.yaml).
//
//go:embed openapi.yaml
var openAPI []byte

// OpenAPIPath is where the API's OpenAPI document is served, without credentials.
const OpenAPIPath = "/openapi.yaml"

// handleOpenAPI is GET /openapi.yaml.
func handleOpenAPI() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Write(openAPI)
	})
}
