package views

// Note is a message for a person: a sentence, and optionally a link to the
// page where they can act on it.
type Note struct {
	Text string
	// Href and Link are the link's address and words; "" for none.
	Href, Link string
	// Error marks a failure (an alert) rather than a confirmation.
	Error bool
}

// Done is a success notice.
func Done(text string) Note { return Note{Text: text} }

// Failed is the error notice of an API or store message, in the console's
// words and with the links the viewer may follow.
func Failed(msg string, can Can) Note {
	n := say(msg, can)
	n.Error = true
	return n
}
