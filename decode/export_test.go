package decode

// ReadCapture reads a whole capture, each packet's bytes its own.
var ReadCapture = readCapture
