package store

import "github.com/dgraph-io/badger/v4"

type badgerTxn = badger.Txn

func openRawBadger(cfg Config) (*badger.DB, error) { return badger.Open(badgerOptions(cfg)) }
