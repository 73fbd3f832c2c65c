package live

import (
	"encoding/json"
	"sync"
)

// eventBuffer is how many events a slow client may lag behind before its
// stream is closed (it reconnects and refreshes everything).
const eventBuffer = 256

// broker fans encoded events out to the open streams. The zero value is
// ready to use.
type broker struct {
	mu     sync.Mutex
	subs   map[chan []byte]struct{}
	closed bool
}

// subscribe returns a channel of encoded events, closed when the client
// lags too far behind or the broker closes, and a function to leave.
func (b *broker) subscribe() (<-chan []byte, func()) {
	ch := make(chan []byte, eventBuffer)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		close(ch)
		return ch, func() {}
	}
	if b.subs == nil {
		b.subs = map[chan []byte]struct{}{}
	}
	b.subs[ch] = struct{}{}
	return ch, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if _, ok := b.subs[ch]; ok {
			delete(b.subs, ch)
			close(ch)
		}
	}
}

// publish sends one server-sent event to every stream without blocking.
func (b *broker) publish(name string, data any) {
	body, err := json.Marshal(data)
	if err != nil {
		return // the event types marshal; nothing to tell anyone
	}
	msg := []byte("event: " + name + "\ndata: " + string(body) + "\n\n")
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- msg:
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
