package postgres

// TranslateWriteError lets the tests of package postgres_test (which can
// use dbtest) feed real server errors to translateWriteError.
var TranslateWriteError = translateWriteError
