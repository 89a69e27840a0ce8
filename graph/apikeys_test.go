package graph

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestAPIKeyLifecycle: a created key authenticates with its role; a wrong secret, an
// unknown id and a malformed token do not; after revocation the key no longer
// authenticates but is still listed, revoked.
func TestAPIKeyLifecycle(t *testing.T) {
	ctx := context.Background()
	s := MustOpenStore(t)
	k, token, err := s.CreateAPIKey(ctx, RoleWriter, "ci pipeline")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(token, "lsk_"+k.ID+"_") || len(token) != len("lsk_")+16+1+64 {
		t.Fatalf("token %q does not have the form lsk_<id>_<secret>", token)
	}
	if strings.Contains(k.Hash, token[len(token)-64:]) {
		t.Fatalf("the record holds the secret")
	}
	got, err := s.Authenticate(ctx, token)
	if err != nil {
		t.Fatalf("Authenticate(fresh key) = %v", err)
	}
	if got.ID != k.ID || got.Role != RoleWriter || got.Name != "ci pipeline" {
		t.Fatalf("Authenticate = %+v, want id %s role writer", got, k.ID)
	}

	wrongSecret := token[:len(token)-1] + string("0123456789abcdef"[(strings.IndexByte("0123456789abcdef", token[len(token)-1])+1)%16])
	unknownID := "lsk_0000000000000000_" + token[len(token)-64:]
	for name, tok := range map[string]string{
		"wrong secret": wrongSecret, "unknown id": unknownID, "malformed": "lsk_nothex_zz", "no prefix": token[4:], "empty": "",
	} {
		if _, err := s.Authenticate(ctx, tok); ErrorCode(err) != EUNAUTHENTICATED {
			t.Errorf("Authenticate(%s %q) = %v, want UNAUTHENTICATED", name, tok, err)
		}
	}

	if _, err := s.RevokeAPIKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, token); ErrorCode(err) != EUNAUTHENTICATED || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("Authenticate(revoked) = %v, want UNAUTHENTICATED saying revoked", err)
	}
	keys, err := s.APIKeys(ctx)
	if err != nil || len(keys) != 1 || !keys[0].Revoked || keys[0].RevokedAt.IsZero() {
		t.Fatalf("APIKeys = %+v, %v; want the one key, revoked", keys, err)
	}
	if _, err := s.RevokeAPIKey(ctx, "00000000000000ff"); ErrorCode(err) != ENOTFOUND {
		t.Errorf("RevokeAPIKey(unknown) = %v, want NOT_FOUND", err)
	}
	if _, err := s.RevokeAPIKey(ctx, "x"); ErrorCode(err) != EINVALID {
		t.Errorf("RevokeAPIKey(malformed) = %v, want INVALID_INPUT", err)
	}
	if _, _, err := s.CreateAPIKey(ctx, Role("root"), ""); ErrorCode(err) != EINVALID {
		t.Errorf("CreateAPIKey(role root) = %v, want INVALID_INPUT", err)
	}
}

func TestRoleOrder(t *testing.T) {
	for _, c := range []struct {
		have, need Role
		want       bool
	}{
		{RoleReader, RoleReader, true}, {RoleReader, RoleWriter, false}, {RoleWriter, RoleReader, true},
		{RoleWriter, RoleAdmin, false}, {RoleAdmin, RoleWriter, true}, {RoleNone, RoleReader, false},
	} {
		if got := c.have.Allows(c.need); got != c.want {
			t.Errorf("%q.Allows(%q) = %v, want %v", c.have, c.need, got, c.want)
		}
	}
	if r, err := ParseRole(" Writer "); err != nil || r != RoleWriter {
		t.Errorf("ParseRole(Writer) = %q, %v", r, err)
	}
	if _, err := ParseRole("owner"); ErrorCode(err) != EINVALID {
		t.Errorf("ParseRole(owner) = %v, want INVALID_INPUT", err)
	}
}

// TestAPIKeysStayOutOfExport: keys are secrets' hashes, not graph data: an export of the
// whole graph holds no key record, Check accepts a store with keys, and a backup carries
// them to the restored store.
func TestAPIKeysStayOutOfExport(t *testing.T) {
	ctx := context.Background()
	s := MustOpenStore(t)
	MustApply(t, s, smallGraph())
	k, token, err := s.CreateAPIKey(ctx, RoleAdmin, "ops")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := s.Export(ctx, func(rec Record) error { return WriteJSONL(&out, rec) }); err != nil {
		t.Fatal(err)
	}
	if out.Len() == 0 || strings.Contains(out.String(), k.ID) || strings.Contains(out.String(), k.Hash) {
		t.Fatalf("the export mentions the API key (or is empty):\n%s", out.String())
	}
	rep, err := s.Check(ctx)
	if err != nil || len(rep.Problems) > 0 {
		t.Fatalf("Check with a key = %+v, %v", rep, err)
	}
	var backup bytes.Buffer
	if _, err := s.Backup(ctx, &backup, 0); err != nil {
		t.Fatal(err)
	}
	restored := MustOpenStore(t)
	if _, err := restored.Restore(ctx, &backup); err != nil {
		t.Fatal(err)
	}
	if got, err := restored.Authenticate(ctx, token); err != nil || got.ID != k.ID {
		t.Fatalf("the key does not authenticate on the restored store: %v", err)
	}
}

// BenchmarkAuthenticate measures what a request with a key pays: parse, one read, SHA-256.
func BenchmarkAuthenticate(b *testing.B) {
	s := MustOpenStore(b)
	_, token, err := s.CreateAPIKey(context.Background(), RoleReader, "")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.Authenticate(context.Background(), token); err != nil {
			b.Fatal(err)
		}
	}
}
