// Package client is Go's way into a running Lodestone server: one Client for its
// GraphQL API, exports, imports, backups and API keys, so that the commands of
// `lodestone` build no HTTP requests of their own. Its methods carry the names of the
// graph.Store methods they stand for, so a command can take either behind one interface.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/lodestone-kg/lodestone/graph"
	"github.com/lodestone-kg/lodestone/ingest"
	"github.com/lodestone-kg/lodestone/server"
)

// Client talks to the server at BaseURL. The zero value is not usable: give BaseURL, or
// call New.
type Client struct {
	// BaseURL is the server's address, such as http://localhost:8080, with no trailing slash.
	BaseURL string
	// Key is the API key sent as "Authorization: Bearer Key"; empty sends none.
	Key string
	// HTTP sends the requests; http.DefaultClient when nil.
	HTTP *http.Client
}

// New returns a client of the server at base, which must be an http(s) URL.
func New(base, key string) (*Client, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: %q is not an http(s) URL such as http://localhost:8080", base)
	}
	return &Client{BaseURL: strings.TrimRight(base, "/"), Key: key}, nil
}

// Do sends req with the client's key and returns the response whatever its status; the
// caller closes its body.
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	if c.Key != "" {
		req.Header.Set("Authorization", "Bearer "+c.Key)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	return hc.Do(req)
}

// request builds and sends a request to path (with its query) under BaseURL.
func (c *Client) request(ctx context.Context, method, path string, body io.Reader, contentType string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, body)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return c.Do(req)
}

// errorOf turns an error answer into an error: a graph.Error when the body is an admin
// error ({"error":{"code","field","message"}}), the first GraphQL error's message, or
// else the status and the start of the body.
func errorOf(resp *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var e struct {
		Error *struct {
			Code, Field, Message string
		} `json:"error"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if json.Unmarshal(raw, &e) == nil {
		if e.Error != nil && e.Error.Message != "" {
			return &graph.Error{Code: e.Error.Code, Field: e.Error.Field, Message: e.Error.Message}
		}
		if len(e.Errors) > 0 {
			return fmt.Errorf("%s (%s)", e.Errors[0].Message, resp.Status)
		}
	}
	return fmt.Errorf("%s %s answered %s: %s", resp.Request.Method, resp.Request.URL.Path, resp.Status, strings.TrimSpace(string(raw)))
}

// doJSON sends a JSON body (none when in is nil) and decodes a 2xx JSON answer into out.
func (c *Client) doJSON(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	ct := ""
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body, ct = bytes.NewReader(raw), "application/json"
	}
	resp, err := c.request(ctx, method, path, body, ct)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return errorOf(resp)
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(out)
}

// GraphQLError is one error of a GraphQL answer.
type GraphQLError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path,omitempty"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

func (e *GraphQLError) Error() string { return e.Message }

// Answer is a GraphQL answer as the server sent it.
type Answer struct {
	// Status is the HTTP status of the answer.
	Status int
	// Data is the answer's data, raw; null or empty when there is none.
	Data json.RawMessage `json:"data"`
	// Errors are the answer's errors, in order.
	Errors []*GraphQLError `json:"errors"`
}

// Code is the extensions.code of the error, such as LIMIT_EXCEEDED; empty when none.
func (e *GraphQLError) Code() string {
	c, _ := e.Extensions["code"].(string)
	return c
}

// Query posts query with its variables to /graphql and returns the answer whatever its
// errors and status; only a transport failure or a body that is not a GraphQL answer is
// an error.
func (c *Client) Query(ctx context.Context, query string, variables map[string]any) (*Answer, error) {
	resp, err := c.request(ctx, http.MethodPost, "/graphql", jsonBody(map[string]any{"query": query, "variables": variables}), "application/json")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	ans := &Answer{Status: resp.StatusCode}
	if err := json.Unmarshal(raw, ans); err != nil {
		return nil, fmt.Errorf("/graphql answered %s with no GraphQL answer: %.200s", resp.Status, raw)
	}
	return ans, nil
}

// GraphQL posts query with its variables to /graphql and decodes the answer's data into
// out (when not nil). An answer with errors returns the first as a *GraphQLError, after
// decoding whatever data came with it.
func (c *Client) GraphQL(ctx context.Context, query string, variables map[string]any, out any) error {
	ans, err := c.Query(ctx, query, variables)
	if err != nil {
		return err
	}
	if out != nil && len(ans.Data) > 0 && string(ans.Data) != "null" {
		if err := json.Unmarshal(ans.Data, out); err != nil {
			return err
		}
	}
	if len(ans.Errors) > 0 {
		return ans.Errors[0]
	}
	return nil
}

func jsonBody(v any) io.Reader {
	raw, _ := json.Marshal(v)
	return bytes.NewReader(raw)
}

// Export streams GET /export in format with the subgraph parameters sel (seeds, depth,
// types, direction, asOf, as ingest.ExportSelection reads them) into w, and returns the
// bytes written. The whole graph needs an admin key, a subgraph a reader key.
func (c *Client) Export(ctx context.Context, w io.Writer, format string, sel url.Values) (int64, error) {
	q := url.Values{"format": {format}}
	for k, v := range sel {
		q[k] = v
	}
	resp, err := c.request(ctx, http.MethodGet, "/export?"+q.Encode(), nil, "")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, errorOf(resp)
	}
	return io.Copy(w, resp.Body)
}

// Backup streams GET /admin/backup into w: a full backup with since 0, else what changed
// after since. It returns the version to pass as since next time; a backup the server
// did not finish (no Lodestone-Backup-Version trailer) is an error. Needs an admin key.
func (c *Client) Backup(ctx context.Context, w io.Writer, since uint64) (uint64, error) {
	resp, err := c.request(ctx, http.MethodGet, "/admin/backup?since="+strconv.FormatUint(since, 10), nil, "")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, errorOf(resp)
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		return 0, err
	}
	next, err := strconv.ParseUint(resp.Trailer.Get(server.BackupVersionHeader), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("the server did not finish the backup (no %s trailer); it is incomplete", server.BackupVersionHeader)
	}
	return next, nil
}

// ImportResult is the answer of POST /admin/import: the summary, and the rejected rows
// (with skipInvalid) as JSON lines.
type ImportResult struct {
	Summary *ingest.Summary   `json:"summary"`
	Rejects []json.RawMessage `json:"rejects"`
}

// Import uploads files (streamed, as multipart form files) to POST /admin/import in
// format; with skipInvalid, invalid rows are rejected instead of failing the import.
// Needs an admin key. Errors: the server's graph.Error, or the transport's.
func (c *Client) Import(ctx context.Context, format string, skipInvalid bool, files []string) (*ImportResult, error) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		for _, name := range files {
			f, err := os.Open(name)
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			part, err := mw.CreateFormFile("file", filepath.Base(name))
			if err == nil {
				_, err = io.Copy(part, f)
			}
			f.Close()
			if err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.CloseWithError(mw.Close())
	}()
	q := url.Values{"format": {format}, "skipInvalid": {strconv.FormatBool(skipInvalid)}}
	resp, err := c.request(ctx, http.MethodPost, "/admin/import?"+q.Encode(), pr, mw.FormDataContentType())
	if err != nil {
		pr.CloseWithError(err)
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return nil, errorOf(resp)
	}
	var out ImportResult
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Summary == nil {
		return nil, fmt.Errorf("import: the server answered %s without a summary", resp.Status)
	}
	out.Summary.Duration = time.Duration(out.Summary.Seconds * float64(time.Second))
	return &out, nil
}

// CreateAPIKey creates a key with role through POST /admin/keys, as graph.Store's method
// of the same name does on a stopped server's store, and returns it with its token
// (shown once). Needs an admin key.
func (c *Client) CreateAPIKey(ctx context.Context, role graph.Role, name string) (*graph.APIKey, string, error) {
	var out struct {
		Key   server.KeyInfo `json:"key"`
		Token string         `json:"token"`
	}
	if err := c.doJSON(ctx, http.MethodPost, "/admin/keys", map[string]string{"role": string(role), "name": name}, &out); err != nil {
		return nil, "", err
	}
	return out.Key.APIKey(), out.Token, nil
}

// APIKeys lists the server's keys (never a secret) through GET /admin/keys. Needs an
// admin key.
func (c *Client) APIKeys(ctx context.Context) ([]*graph.APIKey, error) {
	var out struct {
		Keys []server.KeyInfo `json:"keys"`
	}
	if err := c.doJSON(ctx, http.MethodGet, "/admin/keys", nil, &out); err != nil {
		return nil, err
	}
	keys := make([]*graph.APIKey, len(out.Keys))
	for i, k := range out.Keys {
		keys[i] = k.APIKey()
	}
	return keys, nil
}

// RevokeAPIKey revokes key id for good through POST /admin/keys/ID/revoke. Needs an
// admin key.
func (c *Client) RevokeAPIKey(ctx context.Context, id string) (*graph.APIKey, error) {
	var out struct {
		Key server.KeyInfo `json:"key"`
	}
	if err := c.doJSON(ctx, http.MethodPost, "/admin/keys/"+url.PathEscape(id)+"/revoke", nil, &out); err != nil {
		return nil, err
	}
	return out.Key.APIKey(), nil
}
