package modelfile

import "strings"

// safeGlobals are the imports a plain state-dict checkpoint needs: the
// allow-list of picklescan (collections.OrderedDict, torch storages and
// _rebuild_tensor_v2, numpy arrays) and of the A1111 WebUI's restricted
// unpickler, which accepts the Lightning and numpy objects that the
// original SD 1.x checkpoints carry. Everything else is reported.
var safeGlobals = map[string]bool{
	"collections.OrderedDict":                        true,
	"torch._utils._rebuild_tensor_v2":                true,
	"torch._utils._rebuild_parameter":                true,
	"torch._utils._rebuild_device_tensor_from_numpy": true,
	"torch._tensor._rebuild_from_type_v2":            true,
	"torch.nn.modules.container.ParameterDict":       true,
	"torch.Size":                          true,
	"numpy.dtype":                         true,
	"numpy.ndarray":                       true,
	"numpy.core.multiarray._reconstruct":  true,
	"numpy.core.multiarray.scalar":        true,
	"numpy._core.multiarray._reconstruct": true,
	"numpy._core.multiarray.scalar":       true,
	"_codecs.encode":                      true,
	"__builtin__.set":                     true,
	"builtins.set":                        true,
	"pytorch_lightning.callbacks.model_checkpoint.ModelCheckpoint": true,
	"torch.float16":  true,
	"torch.float32":  true,
	"torch.bfloat16": true,
	"torch.float64":  true,
	"torch.int64":    true,
	"torch.int32":    true,
	"torch.uint8":    true,
	"torch.bool":     true,
}

// safeStorages are torch's typed storage classes (torch.FloatStorage …),
// which every tensor of a torch.save file references.
var safeStorages = []string{"Long", "Float", "Half", "Double", "BFloat16", "Bool", "Char", "Short", "Int", "Byte",
	"ComplexFloat", "ComplexDouble", "QUInt2x4", "QUInt4x2", "QInt32", "QInt8", "QUInt8", "Untyped"}

// IsSafeGlobal reports whether a pickle may import name (module.attr).
func IsSafeGlobal(name string) bool {
	if safeGlobals[name] {
		return true
	}
	if s, ok := strings.CutPrefix(name, "torch."); ok {
		if s, ok := strings.CutSuffix(s, "Storage"); ok {
			for _, t := range safeStorages {
				if s == t {
					return true
				}
			}
		}
	}
	return false
}
