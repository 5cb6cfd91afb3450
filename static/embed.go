// Package static embeds the console's assets: vendored htmx 2.0.11 and its
// SSE extension (npm htmx-ext-sse 2.2.4, BSD Zero Clause), pico.css
// (classless) and our own css and js.
package static

import "embed"

// Files are served under /static/.
//
//go:embed *.js *.css
var Files embed.FS
