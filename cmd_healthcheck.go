package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// runHealthcheck exits 0 when the server at --url (a base URL, like every command's)
// answers GET /healthz with 200 within 3 s. The
// container image has no shell or curl, so its HEALTHCHECK runs this.
func runHealthcheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("healthcheck", stderr)
	base := fs.String("url", "http://127.0.0.1:8080", "base URL of the server, whose /healthz is asked (LODESTONE_URL)")
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	// A URL naming /healthz itself, as --url used to, still works.
	u := strings.TrimRight(strings.TrimSuffix(strings.TrimRight(*base, "/"), "/healthz"), "/") + "/healthz"
	url := &u
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", *url, resp.Status)
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}
