package handlers

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/a-h/templ"
)

// templComponents renders several components one after the other.
func templComponents(comps ...templ.Component) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		for _, c := range comps {
			if err := c.Render(ctx, w); err != nil {
				return err
			}
		}
		return nil
	})
}

// oobAppend wraps rows so htmx appends them to the tbody with id target
// (an out-of-band swap next to the main response).
func oobAppend(target string, rows templ.Component) templ.Component {
	return oobRows("beforeend", target, rows)
}

// oobPrepend is oobAppend at the top of the table (newest first).
func oobPrepend(target string, rows templ.Component) templ.Component {
	return oobRows("afterbegin", target, rows)
}

func oobRows(swap, target string, rows templ.Component) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		if _, err := fmt.Fprintf(w, `<template><tbody hx-swap-oob="%s:#%s">`, swap, strings.ReplaceAll(target, `"`, "")); err != nil {
			return err
		}
		if err := rows.Render(ctx, w); err != nil {
			return err
		}
		_, err := io.WriteString(w, `</tbody></template>`)
		return err
	})
}
