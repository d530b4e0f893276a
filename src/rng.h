/*-------------------------------------------------------------------------
 *
 * rng.h
 *	  Deterministic pseudo-random numbers for the kernels: a splitmix64 hash
 *	  and a seeded stream of uniform and normal draws (pure C, no PostgreSQL
 *	  header; one RecoRng per thread, never shared).
 *
 * The same seed gives the same draws on every platform and build: nothing
 * here depends on libc's rand() or on PostgreSQL's global generator.
 *
 *-------------------------------------------------------------------------
 */
#ifndef RECO_RNG_H
#define RECO_RNG_H

#include <math.h>
#include <stdint.h>

/* A stream of draws: splitmix64's state (Steele, Lea and Flood 2014). */
typedef struct RecoRng
{
	uint64_t	state;
} RecoRng;

/*
 * splitmix64 with state x: adds the golden-ratio increment, then mixes with
 * Stafford's variant 13; a well-mixed 64-bit hash.
 */
static inline uint64_t
RecoSplitMix64(uint64_t x)
{
	x += UINT64_C(0x9E3779B97F4A7C15);
	x = (x ^ (x >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94D049BB133111EB);
	return x ^ (x >> 31);
}

/* A stream keyed by (seed, stream): different streams of one seed are independent. */
static inline RecoRng
RecoRngStart(uint64_t seed, uint64_t stream)
{
	RecoRng		rng;

	rng.state = RecoSplitMix64(RecoSplitMix64(seed) ^ stream);
	return rng;
}

/* The next 64 random bits of the stream. */
static inline uint64_t
RecoRngNext(RecoRng *rng)
{
	rng->state += UINT64_C(0x9E3779B97F4A7C15);
	return RecoSplitMix64(rng->state);
}

/* A uniform double in [0, 1) with 53 random bits. */
static inline double
RecoRngUniform(RecoRng *rng)
{
	return (double) (RecoRngNext(rng) >> 11) * (1.0 / 9007199254740992.0);
}

/* A uniform integer in [0, n), n > 0 (Lemire's multiply-shift, without rejection: bias at most n / 2^64). */
static inline uint64_t
RecoRngBelow(RecoRng *rng, uint64_t n)
{
	return (uint64_t) (((unsigned __int128) RecoRngNext(rng) * n) >> 64);
}

/* A standard normal draw (Box–Muller, one of the pair; u1 kept away from 0). */
static inline double
RecoRngNormal(RecoRng *rng)
{
	double		u1 = 1.0 - RecoRngUniform(rng);	/* (0, 1] */
	double		u2 = RecoRngUniform(rng);

	return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

#endif							/* RECO_RNG_H */
