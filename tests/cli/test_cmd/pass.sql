-- Against examples/demo after its run: every stock row has a non-negative quantity and an item.
SELECT count(*) FROM stock WHERE quantity < 0;
SELECT count(*) FROM stock s LEFT JOIN items i ON i.id = s.item_id WHERE i.id IS NULL;
