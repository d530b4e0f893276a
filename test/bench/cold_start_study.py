#!/usr/bin/python3
"""test/bench/cold_start_study.py — numpy study for issue 14: ridge mapping vs the feature-aware iALS prior on cold items.

Cold-item protocol of test/bench/cold_items.sh on MovieLens 100K, without reco: the items
are split into 5 groups by md5('cold:' || item_id) (the first 8 hex digits mod 5, the same
hash as the SQL); in fold f group f-1 is cold, every u.data interaction with a cold item is
removed from training; iALS (implicit's system: confidence = alpha x rating, alpha 1,
unobserved weight 1, regularization 31, factors 64, 15 iterations, exact solves, users
first) trains on the rest. Item features: the 19 genre flags of u.item ('genre:<name>')
and the decade of the release date ('decade:1990'), one-hot. For each user with at least
one cold item rated >= 4, only the cold items are ranked (scores x_u . y_i, ties by item
id), relevant = the cold items the user rated >= 4: P@10, NDCG@10 (binary, normalised by
min(10, |relevant|)) and AUC (Mann-Whitney with mid-ranks for ties), means over users.

Methods:
  ridge     (a) Gantner et al. 2010: W = argmin |Yc - Fc W|^2 + lambda_W |W|^2 over the warm
            items, F and Y centered (an unpenalized intercept); cold item = ybar + (f - fbar) W.
  prior     (b) feature-aware iALS (irspack style): each item's L2 term is centered on its
            features' mapping, lambda |y_i - (b + F_i W)|^2; W (and b) refit by the same
            centered ridge after every item pass; cold item = b + F_i W.
  genre popularity: mean over the item's genres of (warm interactions with items of that
            genre) / (warm items of that genre).
  feature popularity: the same over all its features (genres and decade), BENCHMARKS.md's.
  random    seeded uniform scores.
Also the mixed ranking for ridge and prior: every item not in the user's training rows
ranked (warm and cold); metrics on the cold relevant items, and cold items per top 10.

    /usr/bin/python3 test/bench/cold_start_study.py [ML100K_DIR] [OUT.md]
"""
import hashlib
import sys
import time

import numpy as np

DATA = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/ml-100k"
OUT = sys.argv[2] if len(sys.argv) > 2 else None
FACTORS, REG, ALPHA, ITERATIONS, SEED = 64, 31.0, 1.0, 15, 42
RIDGE_GRID = [0.1, 1, 3, 10, 30, 100, 300]
PRIOR_GRID = [1, 10, 30, 100, 300]
GENRES = ["unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
          "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
          "Romance", "Sci-Fi", "Thriller", "War", "Western"]


def hash_group(salt, ident):
    """The hashed group 0..4 of an id: md5(salt || ':' || id), its first 8 hex digits mod 5."""
    return int(hashlib.md5(f"{salt}:{ident}".encode()).hexdigest()[:8], 16) % 5


def load():
    """Ratings (user, item, rating as 0-based arrays), item features and genre membership."""
    raw = np.loadtxt(f"{DATA}/u.data", dtype=np.int64)
    users, items, ratings = raw[:, 0] - 1, raw[:, 1] - 1, raw[:, 2].astype(np.float64)
    names, rows = [], []
    with open(f"{DATA}/u.item", encoding="latin-1") as fh:
        for line in fh:
            f = line.rstrip("\n").split("|")
            feats = ["genre:" + GENRES[g] for g in range(19) if f[5 + g] == "1"]
            if f[2]:
                feats.append(f"decade:{int(f[2][-4:]) // 10 * 10}")
            rows.append(feats)
    names = sorted({x for r in rows for x in r})
    col = {n: j for j, n in enumerate(names)}
    feat = np.zeros((len(rows), len(names)))
    for i, r in enumerate(rows):
        for x in r:
            feat[i, col[x]] = 1.0
    genre_cols = [col[n] for n in names if n.startswith("genre:")]
    return users, items, ratings, feat, feat[:, genre_cols], names


def solve_side(conf_rows, other, reg, prior=None):
    """One exact iALS half-step: for every row, (O'O + sum (c-1) o o' + reg I) x = sum c o + reg prior."""
    k = other.shape[1]
    gram = other.T @ other
    a = np.empty((len(conf_rows), k, k))
    b = np.empty((len(conf_rows), k))
    for r, (idx, c) in enumerate(conf_rows):
        o = other[idx]
        a[r] = gram + (o * (c - 1.0)[:, None]).T @ o
        b[r] = c @ o
    a += reg * np.eye(k)
    if prior is not None:
        b += reg * prior
    return np.linalg.solve(a, b[:, :, None])[:, :, 0]


def ridge(f, y, lam):
    """Centered ridge from features f to factors y: (W, intercept b), cold = b + f W."""
    fm, ym = f.mean(axis=0), y.mean(axis=0)
    fc, yc = f - fm, y - ym
    w = np.linalg.solve(fc.T @ fc + lam * np.eye(f.shape[1]), fc.T @ yc)
    return w, ym - fm @ w


def train(n_users, warm, tr_users, tr_items, tr_conf, feat=None, prior_lam=None):
    """iALS on the warm items; with prior_lam the feature-aware prior. Returns X, Y_warm, (W, b) or None."""
    rng = np.random.default_rng(SEED)
    n_warm = len(warm)
    x = rng.standard_normal((n_users, FACTORS)) * 0.01
    y = rng.standard_normal((n_warm, FACTORS)) * 0.01
    by_user = [(tr_items[s], tr_conf[s]) for s in np.split(np.argsort(tr_users, kind="stable"),
                                                          np.cumsum(np.bincount(tr_users, minlength=n_users))[:-1])]
    order = np.argsort(tr_items, kind="stable")
    by_item = [(tr_users[s], tr_conf[s]) for s in np.split(order, np.cumsum(np.bincount(tr_items, minlength=n_warm))[:-1])]
    mapping, prior = None, None
    for _ in range(ITERATIONS):
        x = solve_side(by_user, y, REG)
        y = solve_side(by_item, x, REG, prior)
        if prior_lam is not None:
            mapping = ridge(feat, y, prior_lam)
            prior = mapping[1] + feat @ mapping[0]
    return x, y, mapping


def rank_metrics(scores, cand_ids, rel_mask):
    """P@10, NDCG@10, AUC of one user's scores over candidates (ties by id), relevance mask."""
    order = np.lexsort((cand_ids, -scores))
    hits = rel_mask[order[:10]]
    nrel = rel_mask.sum()
    m = min(10, nrel)
    dcg = (hits / np.log2(np.arange(2, 2 + len(hits)))).sum()
    idcg = (1 / np.log2(np.arange(2, 2 + m))).sum()
    # Mann-Whitney AUC with mid-ranks for ties
    s_sorted = np.sort(scores)
    lo = np.searchsorted(s_sorted, scores[rel_mask], side="left")
    hi = np.searchsorted(s_sorted, scores[rel_mask], side="right")
    midrank = (lo + 1 + hi) / 2.0
    nneg = len(scores) - nrel
    auc = (midrank.sum() - nrel * (nrel + 1) / 2.0) / (nrel * nneg) if nneg else np.nan
    return hits.sum() / 10.0, dcg / idcg, auc


def evaluate(score_fn, test_users, cold, rel):
    """Means over the test users of the cold-only ranking: (P@10, NDCG@10, AUC)."""
    out = [rank_metrics(score_fn(u), cold, np.isin(cold, rel[u])) for u in test_users]
    return tuple(np.nanmean(np.array(out), axis=0))


def evaluate_mixed(x, y_all, test_users, seen, cold, rel):
    """Mixed ranking: every item not seen in training; metrics on cold relevant, cold items per top 10."""
    out, cold_top = [], []
    n_items = y_all.shape[0]
    cold_mask = np.zeros(n_items, bool)
    cold_mask[cold] = True
    for u in test_users:
        cand = np.setdiff1d(np.arange(n_items), seen[u])
        s = y_all[cand] @ x[u]
        out.append(rank_metrics(s, cand, np.isin(cand, rel[u])))
        top = cand[np.lexsort((cand, -s))[:10]]
        cold_top.append(cold_mask[top].sum())
    p, n, a = np.nanmean(np.array(out), axis=0)
    return p, n, a, float(np.mean(cold_top))


def main():
    t_start = time.time()
    users, items, ratings, feat, genre, names = load()
    n_users, n_items = users.max() + 1, feat.shape[0]
    groups = np.array([hash_group("cold", i + 1) for i in range(n_items)])
    results = {}   # method -> list of per-fold tuples

    def add(method, fold, vals):
        results.setdefault(method, {})[fold] = vals

    fold_info = []
    for fold in range(1, 6):
        cold = np.flatnonzero(groups == fold - 1)
        warm = np.flatnonzero(groups != fold - 1)
        is_warm = groups[items] != fold - 1
        pos = np.full(n_items, -1)
        pos[warm] = np.arange(len(warm))
        tr_u, tr_i, tr_r = users[is_warm], pos[items[is_warm]], ratings[is_warm]
        te = ~is_warm
        rel = {}
        for u, i, r in zip(users[te], items[te], ratings[te]):
            if r >= 4:
                rel.setdefault(u, []).append(i)
        test_users = sorted(rel)
        seen = {}
        for u, i in zip(tr_u, items[is_warm]):
            seen.setdefault(u, []).append(i)
        seen = {u: np.array(v) for u, v in seen.items()}
        for u in test_users:
            seen.setdefault(u, np.array([], dtype=np.int64))
        fold_info.append((fold, len(cold), len(warm), int(is_warm.sum()), len(test_users)))
        print(f"fold {fold}: {len(cold)} cold items, {is_warm.sum()} training rows, {len(test_users)} test users",
              file=sys.stderr)

        def add_mapped(label, lam, x, y, mapping):
            """Cold-only metrics of a method's cold items b + F W, and (at lambda 30) its mixed ranking."""
            w, b = mapping
            yc = b + feat[cold] @ w
            add(f"{label} {lam:g}", fold, evaluate(lambda u: yc @ x[u], test_users, cold, rel))
            if lam == 30:
                y_all = np.empty((n_items, FACTORS))
                y_all[warm], y_all[cold] = y, yc
                add(f"{label} {lam:g}, mixed", fold, evaluate_mixed(x, y_all, test_users, seen, cold, rel))

        t0 = time.time()
        x, y, _ = train(n_users, warm, tr_u, tr_i, ALPHA * tr_r)
        print(f"  iALS {time.time() - t0:.1f} s", file=sys.stderr)
        fw = feat[warm]
        for lam in RIDGE_GRID:
            add_mapped("ridge", lam, x, y, ridge(fw, y, lam))
        # intercept only: every cold item at the warm mean (features carry nothing): ties by id
        add("warm mean (no features)", fold,
            evaluate(lambda u: np.zeros(len(cold)), test_users, cold, rel))
        for lam in PRIOR_GRID:
            t0 = time.time()
            xp, yp, mapping = train(n_users, warm, tr_u, tr_i, ALPHA * tr_r, fw, lam)
            add_mapped("prior", lam, xp, yp, mapping)
            print(f"  prior {lam:g}: {time.time() - t0:.1f} s", file=sys.stderr)
        # popularity baselines: interactions per warm item of each feature, among warm items
        counts = np.bincount(items[is_warm], minlength=n_items).astype(float)

        def feature_pop(fm):
            per = (fm[warm] * counts[warm][:, None]).sum(0) / np.maximum(fm[warm].sum(0), 1)
            nf = fm[cold].sum(1)
            return np.where(nf > 0, (fm[cold] @ per) / np.maximum(nf, 1), 0.0)
        gp, fp = feature_pop(genre), feature_pop(feat)
        add("genre popularity", fold, evaluate(lambda u: gp, test_users, cold, rel))
        add("feature popularity", fold, evaluate(lambda u: fp, test_users, cold, rel))
        rng = np.random.default_rng(7 + fold)
        rs = rng.random(len(cold))
        add("random", fold, evaluate(lambda u: rs, test_users, cold, rel))

    lines = ["## Cold items, numpy study: ridge mapping vs feature-aware iALS prior (MovieLens 100K, 5 item folds)", "",
             f"iALS factors {FACTORS}, regularization {REG:g}, alpha {ALPHA:g} (weight = rating), {ITERATIONS} iterations, "
             f"exact solves, seed {SEED}; {len(names)} item features (19 genres + decades). "
             f"Generated by `test/bench/cold_start_study.py` in {time.time() - t_start:.0f} s.", "",
             "| fold | cold items | warm items | training rows | test users |", "|---|---:|---:|---:|---:|"]
    lines += [f"| {a} | {b} | {c} | {d} | {e} |" for a, b, c, d, e in fold_info]
    lines += ["", "Cold-only ranking, five-fold mean (and per-fold NDCG@10); mixed rows: every unseen item ranked, "
              "metrics on the cold relevant items, last column = cold items per top 10.", "",
              "| method | P@10 | NDCG@10 | AUC | NDCG@10 u1..u5 | cold in top 10 |", "|---|---:|---:|---:|---|---:|"]
    ordered = sorted(results, key=lambda m: -np.mean([v[1] for v in results[m].values()]))
    for m in ordered:
        v = np.array([results[m][f] for f in range(1, 6)])
        mean = v.mean(axis=0)
        extra = f"{mean[3]:.2f}" if v.shape[1] > 3 else ""
        lines.append(f"| {m} | {mean[0]:.4f} | {mean[1]:.4f} | {mean[2]:.4f} | "
                     + " / ".join(f"{n:.4f}" for n in v[:, 1]) + f" | {extra} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if OUT:
        with open(OUT, "w") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()
