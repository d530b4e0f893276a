-- test/demo/shop.sql: a deterministic demo e-commerce shop for reco.
--
--   psql -v seed=42 -v customers=2000 -v products=3000 -v orders=30000 -f test/demo/shop.sql
--
-- Creates schema "shop" (dropping it first) with categories, products,
-- customers, orders, order_lines and taste_changes, and what cold start learns from:
-- product_embeddings (a text embedding, shop.text_embedding: a stand-in for a language
-- model's), the views product_features and customer_features (sparse features: category,
-- brand, price band; age band, city, loyalty tier, sign-up channel) and their jsonb forms
-- product_feature_sets and customer_profiles.  Every random number is derived from a
-- hash of (seed, entity key, purpose) -- hashint8extended() works on integer
-- values, so it is independent of plan, parallelism, session and endianness --
-- and only exact arithmetic (+ - * / sqrt floor, numeric) is applied to it, so
-- the same seed and sizes give byte-identical tables everywhere.
--
-- What makes the data worth recommending from:
--  * customers belong to one of ten personas (runner, home cook, young parent,
--    bookworm, ...) that prefer correlated categories; each customer has 1-3
--    favourite categories drawn from the persona and buys ~80% within them;
--  * product popularity inside a category is Zipf-like (rank ~ n * u^3);
--  * customer activity is heavy-tailed (many with 1-3 orders, a few with
--    dozens), scaled by how long the customer has been signed up;
--  * repeat purchases: every customer has a couple of "staple" products per
--    category, re-bought often in consumable categories (coffee, diapers, ...);
--  * interest drift: 40% of customers change persona once, at a day drawn
--    between 30% and 80% of their active time (a runner becomes a young
--    parent): from then on their favourite categories are the new persona's,
--    so their recent orders say more about what they buy next than their old
--    ones (time-aware training, half_life, has something to find); table
--    shop.taste_changes keeps who and when, for the demo's measurement;
--  * orders have 1-5 lines; order ids increase with time over two years
--    (2023-07-01 .. 2025-06-30 UTC);
--  * cold start: 12 new arrivals (ids 60001..) nobody has ordered and 12 new sign-ups
--    (ids after the customers) with a profile and no orders; profiles follow the persona
--    (its age bands, its partner sign-up channel), loyalty tiers count orders.
-- Sizes: products >= 25 (one per category at least).

\set ON_ERROR_STOP on
\if :{?seed}
\else
  \set seed 42
\endif
\if :{?customers}
\else
  \set customers 2000
\endif
\if :{?products}
\else
  \set products 3000
\endif
\if :{?orders}
\else
  \set orders 30000
\endif

SET client_min_messages = warning;
BEGIN;
SET LOCAL max_parallel_workers_per_gather = 0;
SET LOCAL work_mem = '256MB';
SET LOCAL maintenance_work_mem = '512MB';
SET LOCAL TimeZone = 'UTC';

DROP SCHEMA IF EXISTS shop CASCADE;
CREATE SCHEMA shop;

-- rnd(seed, key, purpose) -> double in [0,1), 53 bits of a 64-bit hash.
CREATE FUNCTION pg_temp.rnd(seed bigint, k bigint, salt int) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT (hashint8extended(k, seed * 1000 + salt) & 9007199254740991)::float8 / 9007199254740992 $$;

-- "word|multiplier" -> word / multiplier (default 1)
CREATE FUNCTION pg_temp.w(x text) RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT split_part(x, '|', 1) $$;
CREATE FUNCTION pg_temp.m(x text) RETURNS numeric LANGUAGE sql IMMUTABLE AS
$$ SELECT coalesce(nullif(split_part(x, '|', 2), '')::numeric, 1) $$;

------------------------------------------------------------------------------
-- Categories and their word lists.
-- tmpl: {b} brand/first word, {s} series, {i} item (|base price), {v} variant.
-- pop: relative share of "browsing" purchases outside a customer's favourites.
-- rep: probability that a purchase in this category re-buys a personal staple.
------------------------------------------------------------------------------
CREATE TEMP TABLE cat_src ON COMMIT DROP AS
SELECT * FROM (VALUES
 (1, 'Coffee & Tea', '{b} {s} {i} {v}', 8, 0.60,
  '{Roastery,"Bean Theory","Morning Ritual","Highland Estate","Copper Kettle","Nordic Roast","Casa Aroma","Leaf & Cup"}'::text[],
  '{"",Organic,"Single Origin",Fairtrade,Reserve,Daily}'::text[],
  '{"Ethiopian Yirgacheffe Beans|14","Colombian Supremo Beans|12","Espresso Blend Beans|11","Decaf House Blend|11","Brazil Santos Ground Coffee|9","Sumatra Mandheling Beans|13","Earl Grey Tea|6","Sencha Green Tea|7","English Breakfast Tea|5","Chamomile Herbal Tea|5","Masala Chai|7","Matcha Powder|15"}'::text[],
  '{250g|1,500g|1.8,1kg|3.2}'::text[]),
 (2, 'Kitchen Knives', '{b} {s} {i} {v}', 3, 0.05,
  '{Hanzo,Messerwerk,Bladecraft,Ironwood,"Sakai Forge","Chef''s Edge",Nordkapp,Damasko}',
  '{"",Classic,Pro|1.3,Damascus|1.8,Ikon|1.4}',
  '{"Chef''s Knife|69","Santoku Knife|64","Paring Knife|24","Bread Knife|45","Utility Knife|35","Boning Knife|42","Nakiri Knife|72","Carving Knife|55","Knife Block Set|189","Honing Steel|29","Whetstone 1000/6000|39","Steak Knife Set|59"}',
  '{"Black Handle|1","Olive Wood Handle|1.2","Walnut Handle|1.25","Stainless|1"}'),
 (3, 'Cookware', '{b} {s} {i} {v}', 4, 0.05,
  '{"Le Fonte",Panmaster,"Iron Hearth","Cucina Viva",Steelworks,"Verde Pan","Kupfer & Co",Hausküche}',
  '{"",Classic,Pro|1.3,Induction|1.1,Ceramic|1.15}',
  '{"Cast Iron Skillet|49","Non-Stick Frying Pan|35","Stainless Saucepan|42","Dutch Oven|119","Stock Pot|59","Wok|45","Grill Pan|39","Sauté Pan|55","Roasting Tray|32","Milk Pan|25"}',
  '{20cm|0.85,24cm|1,28cm|1.2,32cm|1.4}'),
 (4, 'Running Shoes', '{b} {s} {i} {v}', 6, 0.12,
  '{Trailblazer,Stridex,Aeropace,Velocita,"Summit Run",Kinetik,Pacer,Northline}',
  '{"",Pro|1.2,Lite|0.9,GTX|1.25,Max|1.15}',
  '{"Running Shoe Men''s|110","Running Shoe Women''s|110","Trail Running Shoe Men''s|130","Trail Running Shoe Women''s|130","Racing Flat|150","Cushioned Trainer Men''s|140","Cushioned Trainer Women''s|140","Stability Shoe|125"}',
  '{38,39,40,41,42,43,44,45,46}'),
 (5, 'Yoga', '{b} {s} {i} {v}', 4, 0.08,
  '{"Lotus Flow",Zenith,"Prana Studio","Balance Lab",OmWorks,"Mindful Motion","Asana Co","Still Water"}',
  '{"",Eco|1.15,Pro|1.3,Travel|0.9,Studio}',
  '{"Yoga Mat|39","Cork Yoga Block|15","Yoga Strap|9","Meditation Cushion|35","Yoga Wheel|29","Foam Block Set|19","Mat Bag|22","Yoga Towel|24",Bolster|45,Leggings|49,"Sports Bra|35"}',
  '{Sage,Charcoal,"Ocean Blue",Plum,Sand,Coral}'),
 (6, 'Camping', '{b} {s} {i} {v}', 4, 0.05,
  '{Basecamp,Fjellgear,Trailhead,Wildpeak,"Nomad Outdoor",Ridgeline,"Pine & Ember",Alpenwolf}',
  '{"",Ultralight|1.4,Expedition|1.6,Family|1.1,Classic}',
  '{"2-Person Tent|149","4-Person Tent|249","Sleeping Bag|89","Sleeping Mat|49","Camping Stove|59",Headlamp|25,"Camping Chair|39","Cooler Box|69","Water Filter|35","Backpack 45L|119",Lantern|29,"Titanium Mug|19"}',
  '{Olive,Orange,Graphite,"Forest Green",Sand}'),
 (7, 'Cycling', '{b} {s} {i} {v}', 4, 0.08,
  '{Velonord,"Spoke & Chain",Roadrunner,Cadence,"Gravel Kings","Tempo Cycles",Alpenrad,"Urban Pedal"}',
  '{"",Pro|1.3,Sport,Aero|1.4,Commuter|0.9}',
  '{"Cycling Helmet|79","Bike Light Set|39","Cycling Gloves|25","Bike Lock|45",Saddle|55,"Floor Pump|35","Bottle Cage|12",Jersey|59,"Bib Shorts|79","Inner Tube 2-Pack|14",Multi-Tool|22,"Pannier Bag|65"}',
  '{Black,White,Red,"Neon Yellow",Blue}'),
 (8, 'Sports Nutrition', '{b} {s} {i} {v}', 5, 0.55,
  '{PowerFuel,"Peak Protein",Enduro,NutriCore,"Iron Athlete","Vital Sport","Green Muscle","Pure Whey Co"}',
  '{"",Vegan|1.1,Isolate|1.3,Zero,Performance|1.15}',
  '{"Whey Protein 1kg|29","Protein Bar 12-Pack|22","Energy Gel 24-Pack|32","Electrolyte Tablets|9","Creatine Monohydrate|19","BCAA Powder|24","Recovery Shake|27","Oat Energy Bar 10-Pack|15"}',
  '{Chocolate,Vanilla,Strawberry,"Salted Caramel",Unflavoured,Lemon}'),
 (9, 'Board Games', '{b} {i}{s} ({v})', 5, 0.03,
  '{Tiny,Lost,Golden,Secret,Mighty,Hidden,Royal,Wild,Sunken,Clockwork}',
  '{"",": Big Box|1.8",": Travel Edition|0.6",": 2nd Edition|1.1",": Deluxe Edition|1.6"}',
  '{Harbours|39,Kingdoms|45,Farms|29,Railways|55,Potions|34,Islands|38,Dragons|49,Castles|42,Gardens|32,Expeditions|44,Cities|36,Empires|52}',
  '{English,German,Multilingual}'),
 (10, 'Toys', '{b} {s} {i} {v}', 5, 0.05,
  '{Brickland,"Little Explorer","Woodland Toys",Funfactory,"Tiny Giants","Sunny Days",Playmakers,Kiddo}',
  '{"",Junior|0.8,Deluxe|1.5,"Eco Wood|1.2",Mini|0.6}',
  '{"Building Blocks Set|29","Wooden Train Set|45","Plush Bear|19","Doll House|89","Remote Control Car|49","Marble Run|39","Puzzle 100 Pieces|12",Kite|15,"Play Kitchen|99","Toy Drum Kit|35","Magnetic Tiles|42","Stacking Rings|9"}',
  '{1+,3+,5+,8+}'),
 (11, 'Baby Care', '{b} {s} {i} {v}', 6, 0.65,
  '{"Little Sprout",Softbee,"Mama Nature","Tiny Toes","Cloud Nine Baby",Babyleaf,"Dreamy Baby","Pure Cuddle"}',
  '{"",Sensitive|1.1,Organic|1.25,Night|1.05,Eco|1.15}',
  '{"Diapers Size 3|13","Diapers Size 4|14","Diapers Size 5|15","Baby Wipes 12-Pack|18","Baby Shampoo|6","Nappy Cream|7","Baby Lotion|8","Bottle Set|24","Pacifier 2-Pack|9","Teething Gel|8","Baby Food Pouches 10-Pack|12","Swaddle Blanket|25"}',
  '{Single|1,"Value Pack|1.8","Monthly Box|3.5"}'),
 (12, 'Books – Crime', 'The {b} {i} by {v} ({s})', 7, 0.02,
  '{Silent,Crimson,Hollow,Last,Drowned,Frozen,Broken,Midnight,Quiet,Burning}',
  '{Paperback|1,Hardcover|1.8,"Large Print|1.3"}',
  '{Witness|11,Harbour|11,Alibi|11,Confession|11,Orchard|11,Verdict|11,Lighthouse|11,Inheritance|11,Ledger|11,Stranger|11,Marsh|11,Bureau|11}',
  '{"M. Harlow","J. K. Brandt","Elena Voss","P. D. Keating","Sara Lindqvist","Tom Ashworth","Ines Moreau","R. J. Calder","Nora Quinn","Henrik Dahl"}'),
 (13, 'Books – Science Fiction', 'The {b} {i} by {v} ({s})', 5, 0.02,
  '{Distant,Quantum,Iron,Outer,Ninth,Shattered,Solar,Forgotten,Infinite,Glass}',
  '{Paperback|1,Hardcover|1.8,"Large Print|1.3"}',
  '{Stars|12,Colony|12,Horizon|12,Protocol|12,Machine|12,Empire|12,Signal|12,Orbit|12,Archive|12,Drift|12,Frontier|12,Tide|12}',
  '{"A. K. Ortega","Lena Marsh","Viktor Sun","C. J. Okafor","Maya Petrov","D. L. Hart","Kenji Aral","Ruth Calloway","Ömer Demir","Sam Whitlock"}'),
 (14, 'Books – Cooking', '{i}: {b} by {v} ({s})', 3, 0.02,
  '{"100 Simple Recipes","Weeknight Classics","A Seasonal Kitchen","From Scratch","The Complete Guide","Fast & Fresh","Family Favourites","Slow & Low"}',
  '{Paperback|1,Hardcover|1.6}',
  '{"Everyday Pasta|19","Plant-Based Kitchen|19","The Bread Book|19","One-Pot Dinners|19","Sourdough at Home|19","Asian Street Food|19","Baking Basics|19","Mediterranean Table|19","Grill Master|19","Sweet Treats|19","Soups & Stews|19","The Spice Route|19"}',
  '{"Anna Lindt","Marco Bellini","Yuki Tanaka","Claire Dubois","Sam Okoro","Jamie Fox","Leila Haddad","Ben Carver"}'),
 (15, 'Children''s Books', '{b} {i} by {v} ({s})', 5, 0.04,
  '{"The Little","The Sleepy","The Brave","The Curious","The Hungry","The Lost","The Tiny","The Magic"}',
  '{Paperback|1,Hardcover|1.4,"Board Book|1.1"}',
  '{Dragon|8,Fox|8,Owl|8,Submarine|8,Dinosaur|8,Rabbit|8,Tractor|8,Unicorn|8,Penguin|8,Rocket|8,Bear|8,Hedgehog|8}',
  '{"Lotte Brand","Ollie Green","Mira Sand","Felix Hart","Ada Moon","Pip Walker","Rosa Berg","Tom Wren"}'),
 (16, 'Pet Supplies', '{b} {s} {i} {v}', 5, 0.50,
  '{"Happy Paws","Whisker Co",Barkley,"Furry Friends",Pawsome,"Tail Wag","Catnip & Co","Nordic Pet"}',
  '{"",Premium|1.3,Natural|1.2,Sensitive|1.15,Eco|1.1}',
  '{"Dry Dog Food|39","Wet Cat Food 12-Pack|15","Cat Litter|12","Dog Treats|7","Chew Toy|9","Cat Scratching Post|39","Dog Bed|49",Leash|19,"Cat Treats|5","Dental Sticks|8","Pet Shampoo|11","Feeding Bowl|14"}',
  '{Small|0.8,Medium|1,Large|1.3}'),
 (17, 'Skincare', '{b} {s} {i} {v}', 6, 0.45,
  '{"Glow Theory","Pure Botanica",Dermalab,"Aqua Veil","Rosehip & Co","Nordic Skin","Velvet Leaf",Clarity}',
  '{"",Hydrating|1.1,Sensitive|1.05,"Vitamin C|1.2",Night|1.1}',
  '{"Face Cream|24",Cleanser|14,Serum|29,"Sunscreen SPF 50|17","Eye Cream|27","Lip Balm|5","Face Mask|12",Toner|15,"Body Lotion|13","Hand Cream|8"}',
  '{30ml|1,50ml|1.4,100ml|2.2}'),
 (18, 'Headphones & Audio', '{b} {s} {i} {v}', 5, 0.03,
  '{Sonora,Bassline,Audiomax,"Echo Labs",Nordsound,Pulse,Clearwave,Tonic}',
  '{"",Pro|1.4,Air|1.1,Studio|1.3,Sport|0.9}',
  '{"Wireless Earbuds|89","Over-Ear Headphones|149","Noise-Cancelling Headphones|249","Bluetooth Speaker|79","Portable Speaker Mini|39",Soundbar|199,"Wired Earphones|19","Gaming Headset|99",Turntable|229,"Smart Speaker|99"}',
  '{Black,White,"Midnight Blue",Silver,Rose}'),
 (19, 'Phone Accessories', '{b} {s} {i} {v}', 6, 0.10,
  '{Chargely,Armorcase,Voltix,Snapgrip,Clearshield,Juicebox,Linkup,Pocketpro}',
  '{"",Slim,Rugged|1.3,Magnetic|1.2,Eco|1.1}',
  '{"Phone Case|19","Screen Protector 2-Pack|12","USB-C Cable 2m|12","Fast Charger 30W|25","Wireless Charger|29","Power Bank 10000mAh|35","Car Mount|19","Phone Stand|15","Camera Lens Kit|29","Pop Grip|9"}',
  '{"iPhone 15","iPhone 14","Galaxy S24","Pixel 8",Universal}'),
 (20, 'Home Office', '{b} {s} {i} {v}', 4, 0.10,
  '{Deskwise,Ergonomo,Workhaus,Paperline,"Focus Co","Studio Nord",Inkwell,Officina}',
  '{"",Ergo|1.2,Pro|1.3,Compact|0.85,Classic}',
  '{"Desk Lamp|39","Office Chair|249","Monitor Stand|45","Notebook A5|9","Fountain Pen|35","Desk Organizer|22","Wireless Mouse|29","Mechanical Keyboard|89","Standing Desk Converter|199",Whiteboard|49,"Laptop Sleeve 14\"|25",Footrest|35}',
  '{Black,White,Oak,Grey}'),
 (21, 'Gardening', '{b} {s} {i} {v}', 4, 0.20,
  '{"Green Thumb",Gartenmeister,"Bloom & Root","Wildflower Co",Terra,"Potting Shed",Hedgerow,Sunpatch}',
  '{"",Pro|1.3,Organic|1.15,Compact|0.85,Heritage|1.2}',
  '{"Pruning Shears|25","Garden Trowel|12","Watering Can|19","Garden Hose|39","Seed Starter Kit|15","Raised Bed Kit|89","Organic Compost|9","Garden Gloves|11","Seed Collection|12","Herb Planter|29","Lawn Fertiliser|22","Bird Feeder|24"}',
  '{Small|0.8,Medium|1,Large|1.4}'),
 (22, 'Bedding & Bath', '{b} {s} {i} {v}', 4, 0.08,
  '{"Linen House",Cloudrest,"Hygge Home","Nordic Sleep","Pure Cotton Co",Dreamweave,Baumwolle,Serenity}',
  '{"",Organic|1.2,Luxury|1.6,Percale|1.1,Sateen|1.25}',
  '{"Duvet Cover|59","Fitted Sheet|29","Pillowcase 2-Pack|19","Bath Towel|19","Hand Towel|9","Bath Robe|49","Down Pillow|45",Duvet|99,"Bath Mat|22","Throw Blanket|39"}',
  '{White,"Stone Grey",Sage,Navy,Blush}'),
 (23, 'Snacks & Sweets', '{b} {s} {i} {v}', 6, 0.55,
  '{"Crunch Co","Nutty Harvest","Sweet Tooth","Chocolatier Laurent","Trail Mix Co","Honeybee Farm","Salt & Crisp","Cacao Lab"}',
  '{"",Organic|1.2,Vegan|1.15,Sugar-Free|1.1,Family|1.3}',
  '{"Dark Chocolate 70%|3","Milk Chocolate Hazelnut|3","Salted Almonds|5","Trail Mix|6",Granola|5,"Oat Cookies|3",Licorice|3,"Gummy Bears|3","Peanut Butter|5",Honey|7,"Popcorn Sea Salt|3","Dried Mango|5"}',
  '{"1 Pack|1","6-Pack|5.2","12-Pack|9.5"}'),
 (24, 'Video Games', '{b} {i}{s} ({v})', 5, 0.03,
  '{Shadow,Star,Pixel,Dragon,Neon,Iron,Cosmic,Wild}',
  '{""," II"," III",": Deluxe Edition|1.4",": Game of the Year|1.2"}',
  '{Legends|59,Racers|49,Odyssey|59,Tactics|39,Kingdoms|49,Survivors|29,Arena|39,Chronicles|59,"Football Manager|49","Farm Life|29",Warriors|49,Islands|39}',
  '{PS5,"Xbox Series X",Switch,PC|0.8}'),
 (25, 'Art Supplies', '{b} {s} {i} {v}', 3, 0.15,
  '{"Palette & Co","Studio Artisan",Brushwork,"Sketchbook Co",Colourfield,"Aquarelle Paris","Graphite Guild","Canvas Craft"}',
  '{"",Artist|1.4,Student|0.8,Pro|1.3,Travel|0.9}',
  '{"Watercolour Set 24|29","Acrylic Paint Set 12|25","Sketchbook A4|12","Brush Set|19","Coloured Pencils 36|22","Canvas Panel 3-Pack|15","Oil Paint Set|39","Drawing Pencils 12|11",Easel|59,"Markers 24|29","Pastel Set|19"}',
  '{Standard|1,Large|1.5}')
) AS v(category_id, name, tmpl, pop, rep, brands, series, items, variants);

CREATE TABLE shop.categories (category_id int PRIMARY KEY, name text NOT NULL UNIQUE);
INSERT INTO shop.categories SELECT category_id, name FROM cat_src ORDER BY category_id;

-- Personas: correlated category tastes (category_id:weight).
CREATE TEMP TABLE persona_cat ON COMMIT DROP AS
SELECT p.persona, p.pweight, split_part(x, ':', 1)::int AS category_id,
       split_part(x, ':', 2)::int AS w, o AS pos
  FROM (VALUES
    (1, 12, '{4:4,5:2,6:3,7:2,8:3,18:1}'::text[]),   -- runner / outdoors
    (2, 14, '{1:4,2:3,3:3,14:2,23:1}'),              -- home cook
    (3, 12, '{11:5,10:3,15:3,22:1,1:1}'),            -- young parent
    (4, 12, '{12:4,13:3,1:2,9:1,20:1}'),             -- bookworm
    (5, 10, '{24:4,18:3,19:2,9:2,23:2}'),            -- gamer
    (6, 12, '{21:4,22:3,16:3,3:1,25:1}'),            -- home & garden
    (7, 10, '{17:4,5:3,1:2,8:1,22:1}'),              -- wellness
    (8,  9, '{20:4,19:3,1:3,18:2}'),                 -- remote worker
    (9,  9, '{25:4,9:3,10:2,15:2,13:1}'),            -- creative family
    (10, 8, '{16:4,6:3,7:2,21:1}')                   -- dog owner / outdoors
  ) AS p(persona, pweight, cats),
  unnest(p.cats) WITH ORDINALITY AS u(x, o);

-- persona lottery: slot -> persona
CREATE TEMP TABLE persona_slot ON COMMIT DROP AS
SELECT (row_number() OVER (ORDER BY persona, g) - 1)::int AS slot, persona
  FROM (SELECT DISTINCT persona, pweight FROM persona_cat) p,
       generate_series(1, p.pweight) g;

-- category lottery for purchases outside the favourites: slot -> category
CREATE TEMP TABLE cat_slot ON COMMIT DROP AS
SELECT (row_number() OVER (ORDER BY category_id, g) - 1)::int AS slot, category_id
  FROM cat_src, generate_series(1, pop) g;

------------------------------------------------------------------------------
-- Products
------------------------------------------------------------------------------
-- shelf price: the name's base price x a brand tier 0.80..1.40 x a per-product jitter
-- 0.95..1.05, ending in .99
CREATE FUNCTION pg_temp.shelf_price(seed bigint, base numeric, brand_key bigint, product_key bigint)
RETURNS numeric LANGUAGE sql IMMUTABLE AS $$
  SELECT (CASE WHEN p < 1 THEN 0.99 ELSE floor(p) + 0.99 END)::numeric(10,2)
    FROM (SELECT base
                   * (0.80 + round((0.6 * pg_temp.rnd(seed, brand_key, 2))::numeric, 2))
                   * (0.95 + round((0.1 * pg_temp.rnd(seed, product_key, 3))::numeric, 3)) AS p) AS x
$$;

CREATE TEMP TABLE combo ON COMMIT DROP AS
SELECT c.category_id, b.o AS bi, s.o AS si, i.o AS ii, v.o AS vi,
       -- {b} is a brand where the name starts with it (books and games start with a title word)
       CASE WHEN c.tmpl = '{b} {s} {i} {v}' THEN pg_temp.w(b.x) END AS brand,
       trim(regexp_replace(replace(replace(replace(replace(c.tmpl,
            '{b}', pg_temp.w(b.x)), '{s}', pg_temp.w(s.x)), '{i}', pg_temp.w(i.x)), '{v}', pg_temp.w(v.x)),
            ' +', ' ', 'g')) AS name,
       pg_temp.m(i.x) * pg_temp.m(s.x) * pg_temp.m(v.x) AS base_price,
       cardinality(c.brands) * cardinality(c.series) * cardinality(c.items) * cardinality(c.variants) AS space,
       (((c.category_id::bigint * 64 + b.o) * 64 + s.o) * 64 + i.o) * 64 + v.o AS ckey
  FROM cat_src c,
       unnest(c.brands)   WITH ORDINALITY b(x, o),
       unnest(c.series)   WITH ORDINALITY s(x, o),
       unnest(c.items)    WITH ORDINALITY i(x, o),
       unnest(c.variants) WITH ORDINALITY v(x, o);

-- products per category: one each, the rest proportional to the name space
CREATE TEMP TABLE cat_n ON COMMIT DROP AS
WITH sp AS (
  SELECT category_id, space,
         sum(space) OVER (ORDER BY category_id)::numeric AS cum,
         sum(space) OVER ()::numeric AS tot,
         greatest(:products - count(*) OVER (), 0) AS rest
    FROM (SELECT DISTINCT category_id, space FROM combo) d
)
SELECT category_id, space,
       (1 + floor(rest * cum / tot) - floor(rest * coalesce(lag(cum) OVER (ORDER BY category_id), 0) / tot))::int AS n
  FROM sp;

CREATE TEMP TABLE prod ON COMMIT DROP AS
WITH ranked AS (
  SELECT c.*, row_number() OVER (PARTITION BY c.category_id ORDER BY pg_temp.rnd(:seed, c.ckey, 1), c.ckey) AS r
    FROM combo c
), picked AS (
  -- when a category needs more products than names, later rounds get an edition suffix
  SELECT r.*, e, e * r.space + r.r AS k
    FROM ranked r JOIN cat_n n USING (category_id)
    CROSS JOIN LATERAL generate_series(0, (n.n - 1) / n.space) e
   WHERE e * r.space + r.r <= n.n
), priced AS (
  SELECT category_id, k, e, ckey, brand,
         CASE WHEN e = 0 THEN name
              WHEN e < 8 THEN name || ' ' || (ARRAY['Limited Edition','Gift Set','Bundle','Special Edition',
                                                    'Twin Pack','Collector''s Edition','Anniversary Edition'])[e]
              ELSE name || ' Edition ' || (e + 1) END AS name,
         pg_temp.shelf_price(:seed, base_price, category_id * 64 + bi, ckey * 16 + e) AS price
    FROM picked
), ordered AS (
  SELECT p.*,
         -- gaps between ids: mostly 1, sometimes a few, rarely a block of 1000
         1 + floor(4 * pg_temp.rnd(:seed, ckey * 16 + e, 4) ^ 3)::int
           + CASE WHEN pg_temp.rnd(:seed, ckey * 16 + e, 5) < 0.01 THEN 1000 ELSE 0 END AS gap,
         pg_temp.rnd(:seed, ckey * 16 + e, 6) AS idkey
    FROM priced p
)
SELECT 10000 + sum(gap) OVER (ORDER BY idkey, category_id, k ROWS UNBOUNDED PRECEDING) AS product_id,
       category_id, name, brand, price,
       -- popularity rank inside the category (1 = best seller)
       row_number() OVER (PARTITION BY category_id ORDER BY pg_temp.rnd(:seed, ckey * 16 + e, 7), k)::int AS pop_rank
  FROM ordered;

-- New arrivals: one product in each of 12 categories, listed on the last day, never
-- ordered (ids 60001..60012): a name of the category's name space that no product has yet.
CREATE TEMP TABLE arrival ON COMMIT DROP AS
WITH cand AS (
  SELECT c.*, row_number() OVER (PARTITION BY c.category_id ORDER BY pg_temp.rnd(:seed, c.ckey, 8), c.ckey) AS r
    FROM combo AS c
   WHERE c.category_id IN (1, 4, 5, 6, 9, 11, 13, 16, 17, 18, 21, 24)
     AND NOT EXISTS (SELECT FROM prod AS p WHERE p.name = c.name)
)
SELECT 60000 + row_number() OVER (ORDER BY category_id) AS product_id, category_id, name, brand,
       pg_temp.shelf_price(:seed, base_price, category_id * 64 + bi, ckey * 16) AS price
  FROM cand WHERE r = 1;

-- brand: NULL for books and games (their names start with a title word, not a brand)
CREATE TABLE shop.products (
  product_id  bigint PRIMARY KEY,
  name        text NOT NULL UNIQUE,
  category_id int NOT NULL REFERENCES shop.categories,
  price       numeric(10,2) NOT NULL,
  brand       text
);
INSERT INTO shop.products
SELECT product_id, name, category_id, price, brand FROM prod
UNION ALL
SELECT product_id, name, category_id, price, brand FROM arrival
 ORDER BY product_id;
CREATE UNIQUE INDEX ON prod (category_id, pop_rank);

------------------------------------------------------------------------------
-- Customers
------------------------------------------------------------------------------
CREATE TEMP TABLE cust ON COMMIT DROP AS
WITH base AS (
  SELECT i AS customer_id,
         -- sign-ups accelerate over time (density grows linearly)
         DATE '2021-07-01' + floor(1445 * sqrt((i - 1 + pg_temp.rnd(:seed, i, 20)) / :customers))::int AS signed_up,
         pg_temp.rnd(:seed, i, 21) AS u_act,
         pg_temp.rnd(:seed, i, 22) AS u_persona,
         pg_temp.rnd(:seed, i, 23) AS u_nfav,
         pg_temp.rnd(:seed, i, 27) AS u_drift,
         pg_temp.rnd(:seed, i, 28) AS u_persona2,
         pg_temp.rnd(:seed, i, 29) AS u_switch
    FROM generate_series(1, :customers::bigint) i
), act AS (
  SELECT b.*, greatest(signed_up, DATE '2023-07-01') AS active_from,
         -- heavy-tailed activity (quantile ~ 1/(u+0.15)^2), scaled by time as a customer
         round(((DATE '2025-06-30' - greatest(signed_up, DATE '2023-07-01') + 1) / 731.0
               / ((u_act + 0.15) * (u_act + 0.15)))::numeric, 6) AS w
    FROM base b
), cum AS (
  SELECT a.*, sum(w) OVER (ORDER BY customer_id) AS cw, sum(w) OVER () AS tw FROM act a
)
SELECT customer_id, signed_up, active_from,
       (floor(:orders * cw / tw) - floor(:orders * coalesce(lag(cw) OVER (ORDER BY customer_id), 0) / tw))::int AS n_orders,
       (SELECT persona FROM persona_slot WHERE slot = floor(u_persona * (SELECT count(*) FROM persona_slot))) AS persona,
       CASE WHEN u_nfav < 0.3 THEN 1 WHEN u_nfav < 0.7 THEN 2 ELSE 3 END AS nfav,
       -- a drifting customer's second persona (another one) and the day it takes over
       CASE WHEN u_drift < 0.4 THEN
         (SELECT persona FROM persona_slot WHERE slot = floor(u_persona2 * (SELECT count(*) FROM persona_slot))) END AS persona2_draw,
       CASE WHEN u_drift < 0.4 THEN
         active_from + floor((DATE '2025-06-30' - active_from + 1) * (0.3 + 0.5 * u_switch))::int END AS switch_on
  FROM cum;
ALTER TABLE cust ADD COLUMN persona2 int;
-- the second persona differs from the first (the next one if the draw repeats it)
UPDATE cust SET persona2 = CASE WHEN persona2_draw = persona THEN persona % 10 + 1 ELSE persona2_draw END;
ALTER TABLE cust ADD PRIMARY KEY (customer_id);

-- New sign-ups: 12 customers (ids after the others) who signed up in the last ten days and
-- have not ordered yet; only their profile is known.
CREATE TEMP TABLE signup ON COMMIT DROP AS
SELECT i AS customer_id,
       DATE '2025-06-30' - floor(10 * pg_temp.rnd(:seed, i, 20))::int AS signed_up,
       (SELECT persona FROM persona_slot
         WHERE slot = floor(pg_temp.rnd(:seed, i, 22) * (SELECT count(*) FROM persona_slot))) AS persona
  FROM generate_series(:customers::bigint + 1, :customers::bigint + 12) i;

-- Profiles follow the (first) persona: its likely age bands, and the partner that brings
-- a third of its customers (a running club for runners, a book club for bookworms, ...);
-- the others sign up on the web, in the app, in a store or through the newsletter, younger
-- customers more often in the app. The loyalty tier counts orders (new members: basic).
CREATE TEMP TABLE persona_profile ON COMMIT DROP AS
SELECT * FROM (VALUES
    (1,  '{25-34,25-34,25-34,35-44,35-44,35-44,18-24,45-54}'::text[], 'running club'),
    (2,  '{35-44,35-44,35-44,45-54,45-54,45-54,55-64,55-64}', 'cooking class'),
    (3,  '{25-34,25-34,25-34,25-34,25-34,35-44,35-44,35-44}', 'parenting blog'),
    (4,  '{45-54,45-54,55-64,55-64,55-64,65+,65+,65+}', 'book club'),
    (5,  '{18-24,18-24,18-24,18-24,18-24,25-34,25-34,25-34}', 'streamer'),
    (6,  '{45-54,45-54,55-64,55-64,55-64,65+,65+,65+}', 'garden centre'),
    (7,  '{25-34,25-34,25-34,35-44,35-44,35-44,18-24}', 'yoga studio'),
    (8,  '{25-34,25-34,25-34,35-44,35-44,35-44}', 'coworking space'),
    (9,  '{35-44,35-44,35-44,35-44,25-34,25-34,45-54}', 'craft fair'),
    (10, '{35-44,35-44,45-54,45-54,55-64,55-64}', 'vet clinic')
  ) AS v(persona, ages, partner);

CREATE TABLE shop.customers (
  customer_id    bigint PRIMARY KEY,
  name           text NOT NULL,
  city           text NOT NULL,
  signed_up      date NOT NULL,
  age_band       text NOT NULL,
  loyalty_tier   text NOT NULL,
  signup_channel text NOT NULL
);
WITH l AS (
  SELECT '{Anna,Lukas,Emma,Leon,Mia,Finn,Sofia,Noah,Hannah,Elias,Lena,Paul,Marie,Jonas,Laura,Felix,Sarah,Max,Julia,David,Lea,Ben,Clara,Tim,Nina,Jan,Katharina,Tobias,Lisa,Daniel,Emily,Alexander,Mila,Niklas,Sophie,Moritz,Amelie,Luca,Johanna,Omar,Aylin,Mehmet,Zeynep,Piotr,Agnieszka,Ivan,Elena,Marco,Giulia,Lucas,Chloé,Ahmed,Fatima,Yuki,Chen,Priya,Oliver,Charlotte,Jakob,Greta}'::text[] AS first,
         '{Müller,Schmidt,Schneider,Fischer,Weber,Meyer,Wagner,Becker,Schulz,Hoffmann,Schäfer,Koch,Bauer,Richter,Klein,Wolf,Schröder,Neumann,Schwarz,Zimmermann,Braun,Krüger,Hofmann,Hartmann,Lange,Schmitt,Werner,Krause,Meier,Lehmann,Schmid,Schulze,Maier,Köhler,Herrmann,König,Walter,Mayer,Huber,Kaiser,Fuchs,Peters,Lang,Scholz,Möller,Weiß,Jung,Hahn,Yılmaz,Kaya,Nowak,Kowalski,Rossi,Silva,Novak,Ivanova,Nguyen,Berg,Jansen,Vogel}'::text[] AS last,
         -- big cities repeated: weighted draw
         '{Berlin,Berlin,Berlin,Berlin,Berlin,Berlin,Hamburg,Hamburg,Hamburg,Hamburg,Munich,Munich,Munich,Munich,Cologne,Cologne,Cologne,Frankfurt,Frankfurt,Frankfurt,Stuttgart,Stuttgart,Düsseldorf,Düsseldorf,Leipzig,Leipzig,Dortmund,Essen,Bremen,Dresden,Hanover,Nuremberg,Duisburg,Bochum,Wuppertal,Bielefeld,Bonn,Münster,Mannheim,Karlsruhe,Augsburg,Wiesbaden,Freiburg,Kiel,Rostock,Potsdam,Heidelberg,Regensburg,Mainz,Erfurt}'::text[] AS city
)
INSERT INTO shop.customers
SELECT c.customer_id, c.name, c.city, c.signed_up, c.age_band,
       CASE WHEN c.n_orders >= 40 THEN 'platinum' WHEN c.n_orders >= 15 THEN 'gold'
            WHEN c.n_orders >= 5 THEN 'silver' ELSE 'basic' END,
       CASE WHEN pg_temp.rnd(:seed, c.customer_id, 35) < 0.35 THEN pp.partner
            WHEN c.age_band IN ('18-24', '25-34')
              THEN (ARRAY['app','app','app','web','web','newsletter'])[1 + floor(6 * pg_temp.rnd(:seed, c.customer_id, 36))::int]
            WHEN c.age_band IN ('35-44', '45-54')
              THEN (ARRAY['web','web','app','app','in-store','newsletter'])[1 + floor(6 * pg_temp.rnd(:seed, c.customer_id, 36))::int]
            ELSE (ARRAY['web','in-store','in-store','newsletter','newsletter','app'])[1 + floor(6 * pg_temp.rnd(:seed, c.customer_id, 36))::int]
       END
  FROM (SELECT m.customer_id, m.signed_up, m.persona, m.n_orders,
               l.first[1 + floor(cardinality(l.first) * pg_temp.rnd(:seed, m.customer_id, 24))::int] || ' ' ||
               l.last[1 + floor(cardinality(l.last) * pg_temp.rnd(:seed, m.customer_id, 25))::int] AS name,
               l.city[1 + floor(cardinality(l.city) * pg_temp.rnd(:seed, m.customer_id, 26))::int] AS city,
               -- 3 in 4 draw from the persona's age bands, 1 in 4 from all six
               CASE WHEN pg_temp.rnd(:seed, m.customer_id, 33) < 0.75
                    THEN pp.ages[1 + floor(cardinality(pp.ages) * pg_temp.rnd(:seed, m.customer_id, 34))::int]
                    ELSE (ARRAY['18-24','25-34','35-44','45-54','55-64','65+'])[1 + floor(6 * pg_temp.rnd(:seed, m.customer_id, 34))::int]
               END AS age_band
          FROM (SELECT customer_id, signed_up, persona, n_orders FROM cust
                UNION ALL
                SELECT customer_id, signed_up, persona, 0 FROM signup) AS m
          JOIN persona_profile AS pp USING (persona), l) AS c
  JOIN persona_profile AS pp USING (persona)
 ORDER BY c.customer_id;

-- favourite categories: nfav of the persona's categories, weighted without
-- replacement (order by u/w); 15% of customers swap their last one for a
-- random category.  Phase 0: the first persona's; phase 1 (drifting
-- customers, from switch_on): the second persona's.
CREATE TEMP TABLE fav ON COMMIT DROP AS
WITH r AS (
  SELECT c.customer_id, c.nfav, pc.category_id, ph.phase,
         row_number() OVER (PARTITION BY c.customer_id, ph.phase
                            ORDER BY pg_temp.rnd(:seed, c.customer_id * 64 + pc.category_id + 4096 * ph.phase, 30) / pc.w, pc.pos) AS k
    FROM cust c
    CROSS JOIN LATERAL (VALUES (0, c.persona), (1, c.persona2)) AS ph(phase, persona)
    JOIN persona_cat pc ON pc.persona = ph.persona
)
SELECT r.customer_id, r.phase, r.k::int AS k,
       CASE WHEN r.k = r.nfav AND r.nfav > 1 AND pg_temp.rnd(:seed, r.customer_id, 31) < 0.15
            THEN (SELECT category_id FROM cat_slot
                   WHERE slot = floor(pg_temp.rnd(:seed, r.customer_id, 32) * (SELECT count(*) FROM cat_slot)))
            ELSE r.category_id END AS category_id
  FROM r WHERE r.k <= r.nfav;
ALTER TABLE fav ADD PRIMARY KEY (customer_id, phase, k);

------------------------------------------------------------------------------
-- Orders: n_orders per customer at random days between activity start and
-- 2025-06-30, evening-heavy time of day; order ids follow time.
------------------------------------------------------------------------------
CREATE TABLE shop.orders (
  order_id    bigint PRIMARY KEY,
  customer_id bigint NOT NULL,
  ordered_at  timestamptz NOT NULL
);
INSERT INTO shop.orders
SELECT 100000 + row_number() OVER (ORDER BY ts, customer_id, n), customer_id, ts
  FROM (SELECT c.customer_id, g.n,
               to_timestamp(((c.active_from - DATE '1970-01-01')
                   + floor((DATE '2025-06-30' - c.active_from + 1) * pg_temp.rnd(:seed, c.customer_id * 4096 + g.n, 40)))::float8 * 86400
                   + floor(21600 + 64800 * sqrt(pg_temp.rnd(:seed, c.customer_id * 4096 + g.n, 41)))) AS ts
          FROM cust c CROSS JOIN LATERAL generate_series(1, c.n_orders) g(n)) o
 ORDER BY 1;

------------------------------------------------------------------------------
-- Order lines
------------------------------------------------------------------------------
CREATE TABLE shop.order_lines (
  order_id   bigint NOT NULL,
  product_id bigint NOT NULL,
  quantity   int NOT NULL,
  price      numeric(10,2) NOT NULL,
  PRIMARY KEY (order_id, product_id)
);
CREATE TEMP TABLE cat_info ON COMMIT DROP AS
SELECT s.category_id, s.rep, n.n FROM cat_src s JOIN cat_n n USING (category_id);

INSERT INTO shop.order_lines
WITH ln AS (
  SELECT o.order_id, o.customer_id, c.nfav, o.order_id * 8 + l AS lk,
         coalesce(o.ordered_at >= c.switch_on, false)::int AS phase
    FROM shop.orders o
    JOIN cust c USING (customer_id)
    CROSS JOIN LATERAL generate_series(1,
        (SELECT CASE WHEN u < 0.38 THEN 1 WHEN u < 0.66 THEN 2 WHEN u < 0.83 THEN 3 WHEN u < 0.93 THEN 4 ELSE 5 END
           FROM (SELECT pg_temp.rnd(:seed, o.order_id, 50) AS u) x)) l
), keyed AS (
  SELECT ln.*,
         CASE WHEN pg_temp.rnd(:seed, lk, 51) < 0.8
              THEN 1 + floor(nfav * pg_temp.rnd(:seed, lk, 52))::int END AS fav_k,
         floor((SELECT count(*) FROM cat_slot) * pg_temp.rnd(:seed, lk, 53))::int AS slot
    FROM ln
), cat AS (
  SELECT k.order_id, k.customer_id, k.lk, coalesce(f.category_id, s.category_id) AS category_id
    FROM keyed k
    LEFT JOIN fav f ON f.customer_id = k.customer_id AND f.phase = k.phase AND f.k = k.fav_k
    JOIN cat_slot s ON s.slot = k.slot
), pick AS (
  SELECT c.order_id, c.lk, c.category_id, ci.rep,
         1 + floor(ci.n * CASE WHEN pg_temp.rnd(:seed, c.lk, 54) < ci.rep
             -- a personal staple: 2 per (customer, category)
             THEN pg_temp.rnd(:seed, (c.customer_id * 32 + c.category_id) * 2
                                     + floor(2 * pg_temp.rnd(:seed, c.lk, 55))::bigint, 56) ^ 3
             ELSE pg_temp.rnd(:seed, c.lk, 57) ^ 3 END)::int AS pop_rank
    FROM cat c JOIN cat_info ci USING (category_id)
)
SELECT p.order_id, pr.product_id,
       sum(CASE WHEN p.rep >= 0.4
                THEN 1 + (pg_temp.rnd(:seed, p.lk, 58) < 0.35)::int + (pg_temp.rnd(:seed, p.lk, 58) < 0.12)::int
                ELSE 1 + (pg_temp.rnd(:seed, p.lk, 58) < 0.04)::int END)::int AS quantity,
       -- 12% of lines sold at 10/20/30% off
       min(round(pr.price * CASE WHEN pg_temp.rnd(:seed, p.lk, 59) < 0.12
                                 THEN 0.9 - 0.1 * floor(3 * pg_temp.rnd(:seed, p.lk, 60))::int ELSE 1 END, 2)) AS price
  FROM pick p JOIN prod pr USING (category_id, pop_rank)
 GROUP BY p.order_id, pr.product_id
 ORDER BY p.order_id, pr.product_id;

-- The generator's ground truth about drift (no real shop has it): who changed
-- tastes, and when.  Only the demo's measurement of time decay reads it.
CREATE TABLE shop.taste_changes (
  customer_id bigint PRIMARY KEY REFERENCES shop.customers,
  changed_on  date NOT NULL
);
INSERT INTO shop.taste_changes SELECT customer_id, switch_on FROM cust WHERE switch_on IS NOT NULL ORDER BY customer_id;

------------------------------------------------------------------------------
-- Features for cold start: what a shop knows of a product or a customer besides orders.
------------------------------------------------------------------------------
-- A deterministic "text embedding": a STAND-IN for a language-model embedding, which a shop
-- would compute with its model (from the product's name and description) and store the same
-- way. Here: the hashed bag of words of the text -- each lower-cased word (ASCII lower-casing,
-- so the same on every locale) goes to one of `dims` dimensions with a sign, both taken from
-- its md5, and the counts are L2-normalized (all zeros for a text without words). Products
-- that share words (a category, a brand, "Trail Running Shoe") point the same way.
CREATE FUNCTION shop.text_embedding(content text, dims integer DEFAULT 32) RETURNS real[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  WITH word AS (
    SELECT ('x' || md5(w))::bit(36) AS h
      FROM regexp_split_to_table(lower(content COLLATE "C"), '[^a-z0-9\u0080-\uffff]+') AS w
     WHERE w NOT IN ('', 'a', 'an', 'and', 'by', 'of', 'the')
  ), dim AS (
    SELECT substring(h FROM 1 FOR 32)::bigint % dims AS d,
           sum(CASE WHEN get_bit(h, 35) = 1 THEN -1 ELSE 1 END) AS v
      FROM word GROUP BY 1
  ), norm AS (
    SELECT sqrt(sum(v * v))::float8 AS n FROM dim
  )
  SELECT array_agg(coalesce(dim.v / nullif(norm.n, 0), 0)::real ORDER BY g)
    FROM generate_series(0, dims - 1) AS g
    LEFT JOIN dim ON dim.d = g
   CROSS JOIN norm
$$;
COMMENT ON FUNCTION shop.text_embedding(text, integer) IS
  'demo stand-in for a language-model text embedding: hashed bag of words, L2-normalized';

-- The embedding of each product's name and category (a dense feature source: id, real[]).
CREATE TABLE shop.product_embeddings (
  product_id     bigint PRIMARY KEY REFERENCES shop.products ON DELETE CASCADE,
  text_embedding real[] NOT NULL
);
INSERT INTO shop.product_embeddings
SELECT p.product_id, shop.text_embedding(p.name || ' ' || c.name)
  FROM shop.products AS p JOIN shop.categories AS c USING (category_id)
 ORDER BY p.product_id;

-- Sparse product features (a sparse feature source: id, feature name): its category, its
-- brand, its price band.
CREATE VIEW shop.product_features AS
SELECT p.product_id, 'category:' || c.name AS feature
  FROM shop.products AS p JOIN shop.categories AS c USING (category_id)
UNION ALL
SELECT p.product_id, 'brand:' || p.brand FROM shop.products AS p WHERE p.brand IS NOT NULL
UNION ALL
SELECT p.product_id,
       'price:' || CASE WHEN p.price < 10 THEN 'under 10' WHEN p.price < 25 THEN '10-25'
                        WHEN p.price < 50 THEN '25-50' WHEN p.price < 100 THEN '50-100'
                        WHEN p.price < 200 THEN '100-200' ELSE '200+' END
  FROM shop.products AS p;

-- A customer's profile as sparse features: age band, city, loyalty tier, sign-up channel.
CREATE VIEW shop.customer_features AS
SELECT c.customer_id, f.feature
  FROM shop.customers AS c
 CROSS JOIN LATERAL (VALUES ('age:' || c.age_band), ('city:' || c.city),
                            ('tier:' || c.loyalty_tier), ('channel:' || c.signup_channel)) AS f(feature);

-- The same features as one jsonb per product / customer, in the form reco's serving takes
-- (reco.place_item, reco.similar_to_features, the profile of reco.recommend_for_items):
-- {"feature": 1, ..., "text_embedding": [...]}.
CREATE VIEW shop.product_feature_sets AS
SELECT p.product_id,
       coalesce((SELECT jsonb_object_agg(f.feature, 1) FROM shop.product_features AS f
                  WHERE f.product_id = p.product_id), '{}')
       || coalesce((SELECT jsonb_build_object('text_embedding', e.text_embedding) FROM shop.product_embeddings AS e
                     WHERE e.product_id = p.product_id), '{}') AS features
  FROM shop.products AS p;
CREATE VIEW shop.customer_profiles AS
SELECT c.customer_id,
       (SELECT jsonb_object_agg(f.feature, 1) FROM shop.customer_features AS f
         WHERE f.customer_id = c.customer_id) AS profile
  FROM shop.customers AS c;

ALTER TABLE shop.orders ADD FOREIGN KEY (customer_id) REFERENCES shop.customers;
ALTER TABLE shop.order_lines ADD FOREIGN KEY (order_id) REFERENCES shop.orders;
ALTER TABLE shop.order_lines ADD FOREIGN KEY (product_id) REFERENCES shop.products;
CREATE INDEX ON shop.orders (customer_id);
CREATE INDEX ON shop.order_lines (product_id);

DROP FUNCTION pg_temp.rnd(bigint, bigint, int);
DROP FUNCTION pg_temp.w(text);
DROP FUNCTION pg_temp.m(text);
DROP FUNCTION pg_temp.shelf_price(bigint, numeric, bigint, bigint);
COMMIT;
RESET client_min_messages;

ANALYZE shop.categories, shop.products, shop.customers, shop.orders, shop.order_lines, shop.taste_changes,
        shop.product_embeddings;
