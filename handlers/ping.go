package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// Ping answers ESD's connection check.
func Ping(c echo.Context) error {
	return Respond(c, http.StatusOK, nil, "pong")
}

// Root returns a handler for the API root naming the API version.
func Root(version, docPath string) echo.HandlerFunc {
	return func(c echo.Context) error {
		return Respond(c, http.StatusOK, map[string]string{
			"name": "Easel", "api_version": version, "openapi": docPath,
		}, "")
	}
}
