-- 0011: accent-insensitive search. The name, commune and village of each household, folded by
-- templates::fold_text() (no diacritics, đ -> d, ƀ -> b, lower case, one space between words),
-- so that "nguyen van", "Nguyen Van" and "NGUYỄN VĂN" all find "Nguyễn Văn" without folding
-- every row at query time. HouseholdStore writes them with the row; loa_fold() is the same
-- function, registered by migrate() for this backfill of the rows already stored.
ALTER TABLE households ADD COLUMN name_folded TEXT NOT NULL DEFAULT '';
ALTER TABLE households ADD COLUMN commune_folded TEXT NOT NULL DEFAULT '';
ALTER TABLE households ADD COLUMN village_folded TEXT NOT NULL DEFAULT '';
UPDATE households
   SET name_folded = loa_fold(name),
       commune_folded = loa_fold(COALESCE(commune, '')),
       village_folded = loa_fold(COALESCE(village, ''));
CREATE INDEX households_name_folded ON households(name_folded);
CREATE INDEX households_area_folded ON households(commune_folded, village_folded);
