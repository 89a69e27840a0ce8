package server

import (
	"compress/gzip"
	"net/http"

	"github.com/klauspost/compress/gzhttp"
)

// compressMinBytes is the smallest response compressLarge compresses: below about a
// kilobyte gzip's header and the CPU cost more than the bytes saved (one TCP segment
// carries it either way).
const compressMinBytes = 1400

// compressLarge gzips the responses of next that reach compressMinBytes when the client
// accepts gzip (Accept-Encoding), and sets Vary: Accept-Encoding. Smaller responses, and
// content that is compressed already (the CSV export's zip), go out as they are. It is
// klauspost/compress's gzhttp at its fastest level, which buffers only the first
// compressMinBytes to decide and then streams, so a long export is compressed as it is
// written.
var compressLarge = func() func(http.Handler) http.Handler {
	// The fastest level: on a LAN or loopback the CPU spent on a smaller answer costs more
	// time than the bytes it saves; BestSpeed still shrinks JSON about 5 times.
	wrap, err := gzhttp.NewWrapper(gzhttp.MinSize(compressMinBytes), gzhttp.CompressionLevel(gzip.BestSpeed))
	if err != nil {
		panic(err) // the options are constants: a failure here is a programming error
	}
	return func(h http.Handler) http.Handler { return wrap(h) }
}()
