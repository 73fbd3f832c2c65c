package grid

import (
	"fmt"
	"strings"
)

// Level is the depth of a grid in the district hierarchy; deeper levels have
// larger values, so "the deepest grid" is the one with the largest Level.
type Level int

const (
	LevelDistrict  Level = 1
	LevelStreet    Level = 2
	LevelCommunity Level = 3
	LevelGrid      Level = 4 // the unit grid (网格), the leaf of the hierarchy
)

var levelNames = [...]string{LevelDistrict: "district", LevelStreet: "street", LevelCommunity: "community", LevelGrid: "grid"}

// Levels lists every level from the root down.
var Levels = []Level{LevelDistrict, LevelStreet, LevelCommunity, LevelGrid}

// Valid reports whether l is one of the four known levels.
func (l Level) Valid() bool { return l >= LevelDistrict && l <= LevelGrid }

// String returns the level's wire name ("district", "street", "community", "grid").
func (l Level) String() string {
	if !l.Valid() {
		return fmt.Sprintf("level(%d)", int(l))
	}
	return levelNames[l]
}

// ParseLevel parses a wire name, case-insensitively.
func ParseLevel(s string) (Level, error) {
	for _, l := range Levels {
		if strings.EqualFold(s, levelNames[l]) {
			return l, nil
		}
	}
	return 0, fmt.Errorf("unknown level %q (want district, street, community or grid)", s)
}

// MarshalText renders the level by name, so JSON carries "street", not 2.
func (l Level) MarshalText() ([]byte, error) {
	if !l.Valid() {
		return nil, fmt.Errorf("invalid level %d", int(l))
	}
	return []byte(levelNames[l]), nil
}

// UnmarshalText parses a level name.
func (l *Level) UnmarshalText(b []byte) error {
	v, err := ParseLevel(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// ParentLevel returns the level a grid of level l must hang under, and false
// for the district, which has no parent.
func (l Level) ParentLevel() (Level, bool) {
	if l <= LevelDistrict {
		return 0, false
	}
	return l - 1, true
}
