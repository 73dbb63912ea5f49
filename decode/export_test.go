package decode

// ReadCapture reads a whole capture, each packet's bytes its own.
var ReadCapture = readCapture

// HeldBytes is what the bypassed streams' held segments take now.
func (a *Analyzer) HeldBytes() int { return a.heldBytes }
