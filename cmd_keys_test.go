package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/lodestone-kg/lodestone/graph"
)

// mustCreateKey runs `lodestone keys create --role role` on the store folder data,
// creating an empty store there first if there is none (keys refuses a folder with no
// store), and returns the key it printed.
func mustCreateKey(t *testing.T, data, role string) string {
	t.Helper()
	store, err := graph.Open(graph.Options{Dir: data})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCLI(t, nil, "", "keys", "create", "--data", data, "--role", role, "--name", "test "+role)
	if err != nil {
		t.Fatalf("keys create --role %s: %v", role, err)
	}
	token := strings.TrimSpace(out)
	if !strings.HasPrefix(token, "lsk_") || strings.Contains(token, "\n") {
		t.Fatalf("keys create printed %q, want the key alone", out)
	}
	return token
}

// TestKeysCommands: create prints a key that authenticates with its role; list shows
// ids and roles but no secret; revoke makes the key fail; mistakes are clear errors.
func TestKeysCommands(t *testing.T) {
	data := t.TempDir()
	token := mustCreateKey(t, data, "writer")
	id := strings.Split(token, "_")[1]
	secret := strings.Split(token, "_")[2]

	out, _, err := runCLI(t, map[string]string{"LODESTONE_DATA": data}, "", "keys", "list") // --data from the environment
	if err != nil || !strings.Contains(out, id) || !strings.Contains(out, "writer") || !strings.Contains(out, "active") || !strings.Contains(out, "test writer") {
		t.Fatalf("keys list = %q, %v; want the key's id, role, status and name", out, err)
	}
	if strings.Contains(out, secret) {
		t.Fatalf("keys list printed the secret")
	}
	authenticate := func() error {
		store, err := graph.Open(graph.Options{Dir: data, ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		k, err := store.Authenticate(context.Background(), token)
		if err == nil && k.Role != graph.RoleWriter {
			t.Errorf("the key has role %q, want writer", k.Role)
		}
		return err
	}
	if err := authenticate(); err != nil {
		t.Fatalf("the created key does not authenticate: %v", err)
	}

	if out, _, err := runCLI(t, nil, "", "keys", "revoke", id, "--data", data); err != nil || !strings.Contains(out, "revoked writer key "+id) {
		t.Fatalf("keys revoke = %q, %v", out, err)
	}
	if err := authenticate(); graph.ErrorCode(err) != graph.EUNAUTHENTICATED {
		t.Fatalf("a revoked key authenticates: %v", err)
	}
	if out, _, _ := runCLI(t, nil, "", "keys", "list", "--data", data); !strings.Contains(out, "revoked") {
		t.Errorf("keys list after revoke = %q", out)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"keys", "create", "--data", data, "--role", "root"}, `"root" is not a role`},
		{[]string{"keys", "create", "--data", data}, "is not a role"},
		{[]string{"keys", "revoke", "--data", data}, "name the key"},
		{[]string{"keys", "revoke", "00000000000000ff", "--data", data}, "no API key"},
		{[]string{"keys", "rotate"}, "unknown command"},
	} {
		if _, _, err := runCLI(t, nil, "", c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error containing %q", c.args, err, c.want)
		}
	}
}

// TestServeRefusesAnonymousWritesBeyondLoopback: secure by default, the switch for
// anonymous writes stops start-up when the server would listen beyond loopback, and
// works on loopback.
func TestServeRefusesAnonymousWritesBeyondLoopback(t *testing.T) {
	for _, addr := range []string{":0", "0.0.0.0:0"} {
		err := run(context.Background(), []string{"lodestone", "serve", "--in-memory", "--addr", addr, "--allow-anonymous-writes"},
			func(string) string { return "" }, strings.NewReader(""), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("serve --addr %s --allow-anonymous-writes = %v, want a refusal naming loopback", addr, err)
		}
	}
	base, stop := startServe(t, nil, "--in-memory", "--seed=false", "--allow-anonymous-writes")
	defer stop()
	var m map[string]any
	postQuery(t, base, `mutation { upsertEntity(input: {id: "dev", kind: "Company", name: "Dev"}) { id } }`, &m)
}

// TestKeysCommandsOverHTTP: with --url and an admin key, keys are created, listed and
// revoked on a running server, and take effect at once; without an admin key the server
// refuses and the command says why.
func TestKeysCommandsOverHTTP(t *testing.T) {
	data := t.TempDir()
	admin := mustCreateKey(t, data, "admin")
	base, stop := startServe(t, map[string]string{"LODESTONE_DATA": data}, "--seed=false", "--auth", "required")
	defer stop()
	env := map[string]string{"LODESTONE_URL": base, "LODESTONE_KEY": admin}

	out, errOut, err := runCLI(t, env, "", "keys", "create", "--role", "reader", "--name", "over http")
	token := strings.TrimSpace(out)
	if err != nil || !strings.HasPrefix(token, "lsk_") || !strings.Contains(errOut, "created reader key") {
		t.Fatalf("keys create --url = %q %q, %v", out, errOut, err)
	}
	id := strings.Split(token, "_")[1]
	read := func() int {
		req, _ := http.NewRequest("GET", base+"/graphql?query=%7Bstats%7Bentities%7D%7D", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if status := read(); status != 200 {
		t.Fatalf("a read with the key created over HTTP = %d, want 200 at once", status)
	}
	if out, _, err := runCLI(t, env, "", "keys", "list"); err != nil || !strings.Contains(out, id) || !strings.Contains(out, "over http") || !strings.Contains(out, "active") {
		t.Fatalf("keys list --url = %q, %v", out, err)
	}
	if out, _, err := runCLI(t, env, "", "keys", "revoke", id); err != nil || !strings.Contains(out, "revoked reader key "+id) {
		t.Fatalf("keys revoke --url = %q, %v", out, err)
	}
	if status := read(); status != 401 {
		t.Errorf("a read with the key revoked over HTTP = %d, want 401 at once", status)
	}
	if _, _, err := runCLI(t, map[string]string{"LODESTONE_URL": base, "LODESTONE_KEY": token}, "", "keys", "list"); err == nil || !strings.Contains(err.Error(), "revoked") {
		t.Errorf("keys list --url with a revoked key: %v, want the server's refusal", err)
	}
	if _, _, err := runCLI(t, env, "", "keys", "revoke", "00000000000000ff"); err == nil || !strings.Contains(err.Error(), "no API key") {
		t.Errorf("keys revoke --url of an unknown id: %v, want NOT_FOUND's message", err)
	}
}
