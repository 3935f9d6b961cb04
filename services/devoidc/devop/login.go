package devop

import (
	"context"
	"html/template"
	"log/slog"
	"net/http"

	"github.com/zitadel/oidc/v3/example/server/storage"
)

// loginPath is where the example storage's clients send the browser to sign
// in (storage.NativeClient's login URL), with the auth request's id.
const loginPath = "/login/username"

// loginPage is a plain form: labelled inputs with fixed ids, so a person
// with a screen reader and a browser test find them alike.
var loginPage = template.Must(template.New("login").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>ddr dev sign-in</title></head>
<body>
<main>
<h1>ddr development sign-in</h1>
<p>Development only: the users are alice, bob, carol and reception-acme-eu, each with the password <code>dev</code>.</p>
{{if .Error}}<p role="alert" id="error">{{.Error}}</p>{{end}}
<form method="post" action="` + loginPath + `">
<input type="hidden" name="id" value="{{.ID}}">
<p><label for="username">Username</label> <input id="username" name="username" autocomplete="username" required autofocus></p>
<p><label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password" required></p>
<p><button type="submit" id="submit">Sign in</button></p>
</form>
</main>
</body>
</html>
`))

type login struct {
	store    *storage.Storage
	callback func(ctx context.Context, authRequestID string) string
	logger   *slog.Logger
}

func (l *login) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	// form-action also governs the redirects that follow the form's POST
	// (Chromium applies it to the whole chain), and the last of them goes
	// to the console's callback on another port: the provider serves
	// loopback only, so it allows loopback origins, nothing else.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; form-action 'self' http://127.0.0.1:* http://localhost:*; frame-ancestors 'none'")
	switch r.Method {
	case http.MethodGet:
		l.render(w, http.StatusOK, r.URL.Query().Get("authRequestID"), "")
	case http.MethodPost:
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		id := r.PostForm.Get("id")
		if err := l.store.CheckUsernamePassword(r.PostForm.Get("username"), r.PostForm.Get("password"), id); err != nil {
			// Neither the name tried nor the password goes to the log.
			l.logger.InfoContext(r.Context(), "dev sign-in refused")
			l.render(w, http.StatusUnauthorized, id, "Wrong username or password, or the sign-in expired.")
			return
		}
		http.Redirect(w, r, l.callback(r.Context(), id), http.StatusFound)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func (l *login) render(w http.ResponseWriter, code int, id, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	if err := loginPage.Execute(w, struct{ ID, Error string }{id, msg}); err != nil {
		l.logger.Warn("dev sign-in page", "err", err)
	}
}
