package scim

import (
	"net/http"
	"strings"
)

// serviceProviderConfig says what this provider supports (RFC 7643 §5).
func (h *Handler) serviceProviderConfig(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"schemas":          []string{"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"},
		"documentationUri": "https://github.com/argoproj-labs/argo-notify/blob/main/docs/scim.md",
		"patch":            map[string]any{"supported": true},
		"bulk":             map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":           map[string]any{"supported": true, "maxResults": maxCount},
		"changePassword":   map[string]any{"supported": false},
		"sort":             map[string]any{"supported": false},
		"etag":             map[string]any{"supported": true},
		"authenticationSchemes": []any{map[string]any{
			"type": "oauthbearertoken", "name": "Bearer token", "primary": true,
			"description": "The SCIM token POST /v1/scim/token generates.",
		}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": BasePath + "/ServiceProviderConfig"},
	})
}

var resourceTypeList = []map[string]any{
	{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:ResourceType"},
		"id":      "User", "name": "User", "endpoint": "/Users", "description": "A person of the directory",
		"schema":           SchemaUser,
		"schemaExtensions": []any{map[string]any{"schema": SchemaEnterprise, "required": false}},
		"meta":             map[string]any{"resourceType": "ResourceType", "location": BasePath + "/ResourceTypes/User"},
	},
	{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:ResourceType"},
		"id":      "Group", "name": "Group", "endpoint": "/Groups", "description": "A group of the directory",
		"schema": SchemaGroup,
		"meta":   map[string]any{"resourceType": "ResourceType", "location": BasePath + "/ResourceTypes/Group"},
	},
}

func (h *Handler) resourceTypes(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"schemas": []string{schemaList}, "totalResults": len(resourceTypeList),
		"startIndex": 1, "itemsPerPage": len(resourceTypeList), "Resources": resourceTypeList})
}

func (h *Handler) resourceType(w http.ResponseWriter, r *http.Request) {
	for _, rt := range resourceTypeList {
		if strings.EqualFold(rt["id"].(string), r.PathValue("id")) {
			writeJSON(w, http.StatusOK, rt)
			return
		}
	}
	writeError(w, &Error{Status: http.StatusNotFound, Detail: "no resource type " + r.PathValue("id")})
}

// attr describes one attribute of a schema (RFC 7643 §7), as far as this
// provider keeps it.
func attr(name, typ string, multi, required, caseExact bool, mutability, uniqueness string, subs ...map[string]any) map[string]any {
	a := map[string]any{
		"name": name, "type": typ, "multiValued": multi, "required": required, "caseExact": caseExact,
		"mutability": mutability, "returned": "default", "uniqueness": uniqueness,
	}
	if len(subs) > 0 {
		a["subAttributes"] = subs
	}
	return a
}

func (h *Handler) schemaList() []map[string]any {
	sub := func(name, typ string) map[string]any {
		return attr(name, typ, false, false, false, "readWrite", "none")
	}
	return []map[string]any{
		{
			"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Schema"},
			"id":      SchemaUser, "name": "User", "description": "A person of the directory; other attributes of RFC 7643 are accepted and not kept",
			"attributes": []any{
				attr("userName", "string", false, true, false, "readWrite", "server"),
				attr("name", "complex", false, false, false, "readWrite", "none", sub("formatted", "string"), sub("givenName", "string"), sub("familyName", "string")),
				attr("displayName", "string", false, false, false, "readWrite", "none"),
				attr("active", "boolean", false, false, false, "readWrite", "none"),
				attr("emails", "complex", true, true, false, "readWrite", "none", sub("value", "string"), sub("type", "string"), sub("primary", "boolean")),
				attr("roles", "complex", true, false, false, "readWrite", "none", sub("value", "string"), sub("primary", "boolean")),
				attr("groups", "complex", true, false, false, "readOnly", "none", sub("value", "string")),
			},
			"meta": map[string]any{"resourceType": "Schema", "location": BasePath + "/Schemas/" + SchemaUser},
		},
		{
			"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Schema"},
			"id":      SchemaGroup, "name": "Group", "description": "A group of the directory",
			"attributes": []any{
				attr("displayName", "string", false, true, false, "readWrite", "server"),
				attr("members", "complex", true, false, false, "readWrite", "none", sub("value", "string"), sub("$ref", "reference"), sub("type", "string")),
			},
			"meta": map[string]any{"resourceType": "Schema", "location": BasePath + "/Schemas/" + SchemaGroup},
		},
	}
}

func (h *Handler) schemas(w http.ResponseWriter, r *http.Request) {
	l := h.schemaList()
	writeJSON(w, http.StatusOK, map[string]any{"schemas": []string{schemaList}, "totalResults": len(l),
		"startIndex": 1, "itemsPerPage": len(l), "Resources": l})
}

func (h *Handler) schema(w http.ResponseWriter, r *http.Request) {
	for _, s := range h.schemaList() {
		if strings.EqualFold(s["id"].(string), r.PathValue("id")) {
			writeJSON(w, http.StatusOK, s)
			return
		}
	}
	writeError(w, &Error{Status: http.StatusNotFound, Detail: "no schema " + r.PathValue("id")})
}
