package sim

import (
	"encoding/json"
	"fmt"
	"image"
	"image/draw"
	"io"
	"net/http"
)

// extrasRequest holds the A1111 extra-single-image fields the simulator uses.
type extrasRequest struct {
	Image            string  `json:"image"`
	ResizeMode       int     `json:"resize_mode"` // 0: by factor, 1: to size
	UpscalingResize  float64 `json:"upscaling_resize"`
	UpscalingResizeW int     `json:"upscaling_resize_w"`
	UpscalingResizeH int     `json:"upscaling_resize_h"`
}

// extraSingle "upscales" the image with nearest neighbour and marks it as
// simulated.
func (s *server) extraSingle(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		httpException(w, http.StatusRequestEntityTooLarge, err.Error())
		return
	}
	req := extrasRequest{UpscalingResize: 2, UpscalingResizeW: 512, UpscalingResizeH: 512}
	if err := json.Unmarshal(body, &req); err != nil {
		unprocessable(w, "JSON decode error: "+err.Error())
		return
	}
	in, err := decodeImage(req.Image)
	if err != nil {
		httpException(w, http.StatusInternalServerError, "Invalid encoded image")
		return
	}
	b := in.Bounds()
	ow, oh := int(float64(b.Dx())*req.UpscalingResize), int(float64(b.Dy())*req.UpscalingResize)
	if req.ResizeMode == 1 {
		ow, oh = req.UpscalingResizeW, req.UpscalingResizeH
	}
	if ow < 1 || oh < 1 || ow > MaxSide || oh > MaxSide {
		badRequest(w, fmt.Sprintf("output size %dx%d is outside the simulator's limit of 1..%d", ow, oh, MaxSide))
		return
	}
	if !s.acquire(r.Context()) {
		return
	}
	defer s.release()
	j := s.begin("extras", 1)
	defer s.end(j)
	s.sample(j) // Delay is its time; an interrupt cuts it short, the image is made anyway
	if s.fail() {
		exception(w, "RuntimeError", "simulated failure (--fail-rate)")
		return
	}
	src := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(src, src.Bounds(), in, b.Min, draw.Src)
	out := image.NewRGBA(image.Rect(0, 0, ow, oh))
	for y := range oh {
		srow := src.Pix[(y*b.Dy()/oh)*src.Stride:]
		row := out.Pix[y*out.Stride:]
		for x := range ow {
			copy(row[4*x:4*x+4], srow[4*(x*b.Dx()/ow):])
		}
	}
	banner(out, "")
	enc, err := encodePNG(out)
	if err != nil {
		exception(w, "RuntimeError", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{
		"html_info": fmt.Sprintf("<p>easel-simulator (not Stable Diffusion): nearest-neighbour resize %dx%d to %dx%d</p>",
			b.Dx(), b.Dy(), ow, oh),
		"image": enc,
	})
}
