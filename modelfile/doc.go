// Package modelfile reads what a model file says about itself without
// running or loading it:
//
//   - safetensors: the header (an 8-byte little-endian length, then JSON
//     naming each tensor's dtype, shape and byte range, and optional
//     string metadata such as kohya's ss_* training settings) is read
//     through an io.ReaderAt — one ranged GET on the object store — and
//     checked like the reference implementation checks it, with caps on
//     every size a hostile file controls (safetensors.go). The tensor
//     names tell the kind of model and its base (kind.go).
//   - pickles (.ckpt, .pt, .pth, .bin): the picklescan approach. The
//     opcodes of every data.pkl in the zip archive (or of a bare pickle)
//     are walked without executing anything, the globals they import are
//     collected, and those outside an allow-list of tensor-rebuilding
//     helpers are reported as unsafe (pickle.go, torchzip.go).
//
// Inspect picks the reader by file name and returns an Info, the record
// the model library stores and shows. Nothing here allocates in
// proportion to a file's claims: headers, archive entries, strings and
// opcode counts are capped, and a file past a cap is reported, not read.
package modelfile
