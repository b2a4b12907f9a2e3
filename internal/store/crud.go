package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// The shapes most store methods share: read one row, read a list, write one
// row. Each names its subject in the error the way every method did by hand.

// first reads the row of T that matches cond (a WHERE clause with ?
// placeholders); none is ErrNotFound naming what.
func first[T any](ctx context.Context, db *gorm.DB, what, cond string, args ...any) (*T, error) {
	var v T
	if err := db.WithContext(ctx).First(&v, append([]any{cond}, args...)...).Error; err != nil {
		return nil, notFound(err, what)
	}
	return &v, nil
}

// findAll reads every row of T that q selects; doing names the read in the
// error ("listing users").
func findAll[T any](q *gorm.DB, doing string) ([]T, error) {
	var out []T
	if err := q.Find(&out).Error; err != nil {
		return nil, fmt.Errorf("%s: %w", doing, err)
	}
	return out, nil
}

// scanAll is findAll for a query that selects into a type other than its
// model (a join or a subset of columns).
func scanAll[T any](q *gorm.DB, doing string) ([]T, error) {
	var out []T
	if err := q.Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("%s: %w", doing, err)
	}
	return out, nil
}

// oneRow checks a write meant for one row: its error as "<doing> <what>",
// and ErrNotFound naming what when no row matched.
func oneRow(res *gorm.DB, doing, what string) error {
	if res.Error != nil {
		return notFound(res.Error, doing+" "+what)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return nil
}

// findPage reads one page of T newest first: up to p's limit of the rows q
// selects with ids below p.Cursor, and the cursor of the next page ("" on
// the last).
func findPage[T any](q *gorm.DB, p Page, doing string, id func(T) string) ([]T, string, error) {
	q = q.Order("id DESC").Limit(p.limit() + 1)
	if p.Cursor != "" {
		q = q.Where("id < ?", p.Cursor)
	}
	items, err := findAll[T](q, doing)
	if err != nil {
		return nil, "", err
	}
	return pageOf(items, p.limit(), id)
}

func pageOf[T any](items []T, limit int, id func(T) string) ([]T, string, error) {
	if len(items) > limit {
		return items[:limit], id(items[limit-1]), nil
	}
	return items, "", nil
}
