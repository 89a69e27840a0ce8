package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/lodestone-kg/lodestone/client"
	"github.com/lodestone-kg/lodestone/graph"
)

const keysUsage = `Usage: lodestone keys <command> [flags]

Manage the API keys of a store (graph/apikeys.go). Clients send a key as
"Authorization: Bearer <key>"; roles are reader < writer < admin.

  lodestone keys create --role reader|writer|admin [--name NOTE]
        prints the new key on standard output, once: only its hash is stored
  lodestone keys list
        lists ids, roles, names, creation and revocation (never a secret)
  lodestone keys revoke ID
        revokes a key for good

Every command takes --data DIR (LODESTONE_DATA, default ./data): a store is open in one
process at a time, so stop the server first (keys take effect when it starts again). Or
manage the keys of a running server, at once, with --url URL and an admin key --key KEY
(LODESTONE_URL, LODESTONE_KEY; GET/POST /admin/keys, POST /admin/keys/ID/revoke).
`

// runKeys is `lodestone keys`: create, list and revoke API keys in a store no server
// is using, or through a running server's admin endpoints (--url).
func runKeys(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd, rest, done, err := subcommand(args, keysUsage, "keys: name a command: create, list or revoke", stderr)
	if done {
		return err
	}
	fs := newFlagSet("keys "+cmd, stderr)
	data := fs.String("data", "./data", "folder of the Badger store, which no server may be using (LODESTONE_DATA)")
	url := fs.String("url", "", "manage the keys of the server at this URL instead (e.g. http://localhost:8080) (LODESTONE_URL)")
	adminKey := fs.String("key", "", "admin API key for --url, sent as Authorization: Bearer (LODESTONE_KEY)")
	// with runs fn on the keys of the server at --url, or else of the store in --data.
	with := func(fn func(keys keyStore) error) error {
		if *url != "" {
			c, err := client.New(*url, *adminKey)
			if err != nil {
				return fmt.Errorf("keys: --url: %w", err)
			}
			return fn(c)
		}
		opts := graph.Options{Dir: *data, CacheSize: noCache}
		store, err := openExistingStore(opts, "give --data DIR of an existing store, or --url URL of a running server; lodestone serve or import creates a store")
		if errors.Is(err, errNoStore) && cmd == "create" {
			// The first admin key is made before the first start (README, Access
			// control): create may begin a store, and says so; list and revoke refuse.
			if store, err = graph.Open(opts); err == nil {
				fmt.Fprintf(stderr, "keys: there was no store at %s: created a new, empty one\n", *data)
			}
		} else if errors.Is(err, errNoStore) {
			return fmt.Errorf("keys: %w", err)
		}
		if err != nil {
			return fmt.Errorf("keys: open the store at %s (stop the server that uses it first, or pass --url): %w", *data, err)
		}
		defer store.Close()
		if err := fn(store); err != nil {
			return err
		}
		return store.Close()
	}
	switch cmd {
	case "create":
		role := fs.String("role", "", "reader, writer or admin (required)")
		name := fs.String("name", "", "a note saying who or what the key is for")
		if err := parseFlags(fs, rest, getenv); err != nil {
			return err
		}
		r, err := graph.ParseRole(*role)
		if err != nil {
			return fmt.Errorf("keys create: --role: %s", strings.TrimPrefix(err.Error(), "role: "))
		}
		var k *graph.APIKey
		var token string
		if err := with(func(keys keyStore) (err error) {
			k, token, err = keys.CreateAPIKey(ctx, r, *name)
			return err
		}); err != nil {
			return err
		}
		fmt.Fprintln(stdout, token)
		fmt.Fprintf(stderr, "created %s key %s; it is shown only this once. Clients send it as:\n  Authorization: Bearer %s…\n", k.Role, k.ID, token[:len("lsk_")+len(k.ID)+1])
		return nil
	case "list":
		if err := parseFlags(fs, rest, getenv); err != nil {
			return err
		}
		var keys []*graph.APIKey
		if err := with(func(ks keyStore) (err error) {
			keys, err = ks.APIKeys(ctx)
			return err
		}); err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tROLE\tCREATED\tSTATUS\tNAME")
		for _, k := range keys {
			status := "active"
			if k.Revoked {
				status = "revoked " + k.RevokedAt.Format(time.DateOnly)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.ID, k.Role, k.CreatedAt.Format(time.DateOnly), status, k.Name)
		}
		return tw.Flush()
	case "revoke":
		// revoke ID [flags] or revoke [flags] ID
		var id string
		if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
			id, rest = rest[0], rest[1:]
		}
		if err := fs.Parse(rest); err != nil {
			return err
		}
		rest = fs.Args()
		if id == "" && len(rest) > 0 {
			id, rest = rest[0], rest[1:]
		}
		if err := parseFlags(fs, rest, getenv); err != nil {
			return err
		}
		if id == "" {
			return errors.New("keys revoke: name the key: lodestone keys revoke ID (see lodestone keys list)")
		}
		var k *graph.APIKey
		if err := with(func(keys keyStore) (err error) {
			k, err = keys.RevokeAPIKey(ctx, id)
			return err
		}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked %s key %s\n", k.Role, k.ID)
		return nil
	}
	fmt.Fprint(stderr, keysUsage)
	return fmt.Errorf("keys: unknown command %q", cmd)
}

// keyStore is what `lodestone keys` does to keys: graph.Store on a stopped server's
// store, client.Client on a running server.
type keyStore interface {
	CreateAPIKey(ctx context.Context, role graph.Role, name string) (*graph.APIKey, string, error)
	APIKeys(ctx context.Context) ([]*graph.APIKey, error)
	RevokeAPIKey(ctx context.Context, id string) (*graph.APIKey, error)
}
