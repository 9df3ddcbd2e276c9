package peers

// static void noop(void) {}
import "C"

// Noop is a cgo call that does nothing: the Go peer of rt_systemstack
// (a switch to g0 and back; cgo adds entersyscall/exitsyscall).
func Noop() { C.noop() }
