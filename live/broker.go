package live

import (
	"encoding/json"
	"sync"
)

// eventBuffer is how many events a slow client may lag behind before its
// stream is closed (it reconnects and refreshes everything).
const eventBuffer = 256

// broker fans encoded events out to the open streams, each cut to its
// audience. The zero value is ready to use.
type broker struct {
	mu     sync.Mutex
	subs   map[chan []byte]Audience
	closed bool
}

// subscribe returns a channel of encoded events for a, closed when the
// client lags too far behind or the broker closes, and a function to
// leave.
func (b *broker) subscribe(a Audience) (<-chan []byte, func()) {
	ch := make(chan []byte, eventBuffer)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		close(ch)
		return ch, func() {}
	}
	if b.subs == nil {
		b.subs = map[chan []byte]Audience{}
	}
	b.subs[ch] = a
	return ch, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if _, ok := b.subs[ch]; ok {
			delete(b.subs, ch)
			close(ch)
		}
	}
}

// encode writes one server-sent event.
func encode(name string, data any) []byte {
	body, err := json.Marshal(data)
	if err != nil {
		return nil // the event types marshal; nothing to tell anyone
	}
	return []byte("event: " + name + "\ndata: " + string(body) + "\n\n")
}

// publish sends one server-sent event to every stream without blocking.
func (b *broker) publish(name string, data any) {
	msg := encode(name, data)
	if msg == nil {
		return
	}
	b.fanOut(func(Audience) []byte { return msg })
}

// fanOut sends each stream what msg makes of its audience (nil: nothing),
// without blocking.
func (b *broker) fanOut(msg func(Audience) []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch, a := range b.subs {
		m := msg(a)
		if m == nil {
			continue
		}
		select {
		case ch <- m:
		default: // too far behind: end its stream, it reconnects and resyncs
			delete(b.subs, ch)
			close(ch)
		}
	}
}

// close ends every stream and refuses new ones.
func (b *broker) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for ch := range b.subs {
		delete(b.subs, ch)
		close(ch)
	}
}
