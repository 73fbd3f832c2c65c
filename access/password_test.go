package access

import (
	"strings"
	"testing"
)

func TestPassword(t *testing.T) {
	h := HashPassword("correct horse battery")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q is not PHC argon2id with the parameters", h)
	}
	if h2 := HashPassword("correct horse battery"); h2 == h {
		t.Error("two hashes of one password are equal: no salt")
	}
	for _, tc := range []struct {
		name, hash, pw string
		want           bool
	}{
		{"right", h, "correct horse battery", true},
		{"wrong", h, "correct horse batterz", false},
		{"empty", h, "", false},
		{"no user", "", "correct horse battery", false},
		{"not a hash", "$2a$10$abc", "correct horse battery", false},
		{"bad params", strings.Replace(h, "m=19456", "m=0", 1), "correct horse battery", false},
		{"too long", h, strings.Repeat("x", 300), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := CheckPassword(tc.hash, tc.pw); got != tc.want {
				t.Errorf("CheckPassword = %v, want %v", got, tc.want)
			}
		})
	}
	if err := ValidatePassword("short"); err == nil {
		t.Error("a 5-character password passed")
	}
	if err := ValidatePassword(NewPassword()); err != nil {
		t.Errorf("a generated password fails: %v", err)
	}
}

func TestUserValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		u     User
		field string
	}{
		{"ok", User{Name: "li.wei", Role: RoleDispatcher, Scope: []string{"370203005"}}, ""},
		{"bad name", User{Name: "li wei", Role: RoleViewer}, "name"},
		{"handler without unit", User{Name: "h", Role: RoleHandler}, "unit"},
		{"scoped admin", User{Name: "a", Role: RoleAdmin, Scope: []string{"370203005"}}, "scope"},
		{"integration", User{Name: "i", Role: RoleIntegration}, "role"},
		{"unknown role", User{Name: "x", Role: "boss"}, "role"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.u.Validate()
			var fe *FieldError
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.field != "" && (err == nil || !asField(err, &fe) || fe.Field != tc.field):
				t.Fatalf("got %v, want a refusal of %s", err, tc.field)
			}
		})
	}
}

func asField(err error, fe **FieldError) bool {
	f, ok := err.(*FieldError)
	*fe = f
	return ok
}
