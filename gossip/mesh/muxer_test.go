package mesh

import (
	"testing"

	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
)

// TestMuxerFramesFitNoise: a full yamux data frame, header included, is
// one Noise message, and libp2p's other yamux settings are kept (hosts
// built with it are what every mesh test runs on).
func TestMuxerFramesFitNoise(t *testing.T) {
	c := *muxer().Config()
	if c.MaxMessageSize != noise.MaxPlaintextLength {
		t.Fatalf("yamux frames up to %d bytes, a Noise message carries %d", c.MaxMessageSize, noise.MaxPlaintextLength)
	}
	def := *yamux.DefaultTransport.Config()
	if def.MaxMessageSize <= c.MaxMessageSize {
		t.Fatalf("libp2p's frames (%d bytes) already fit: drop muxer", def.MaxMessageSize)
	}
	def.MaxMessageSize = c.MaxMessageSize
	if c != def {
		t.Fatalf("settings other than the frame size changed: %+v, libp2p's %+v", c, def)
	}
}
