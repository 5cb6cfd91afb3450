//go:build tools

// Package s3gw pins versitygw, the S3 gateway Easel embeds by default.
package s3gw

import _ "github.com/versity/versitygw/cmd/versitygw"
