/**
 * A seeded synthetic year of daily mean temperatures in London (°C): a seasonal sinusoid (about 5 °C in
 * mid-January, 18 °C in mid-July) plus weather, modelled as AR(1) noise so warm and cold spells last a
 * few days as they do. Same seed, same year, in every JS engine (the PRNG is @gradroom/core's).
 */
import { rngFor, STREAM } from '@gradroom/core';

export const DAYS = 365;
const MEAN = 11.5;
const AMPLITUDE = 6.8;
const COLDEST_DAY = 15; // 0-based day of year: mid-January
const PERSISTENCE = 0.6; // AR(1) coefficient of the day-to-day weather
const WEATHER_SD = 2.2; // standard deviation of the weather around the seasonal mean

/** The seasonal mean of day d (0-based). */
export function seasonal(d: number): number {
  return MEAN - AMPLITUDE * Math.cos((2 * Math.PI * (d - COLDEST_DAY)) / DAYS);
}

/** 365 daily temperatures, rounded to 0.1 °C like a weather record. */
export function londonYear(seed: number): number[] {
  const rng = rngFor(seed, STREAM.data);
  const innovation = WEATHER_SD * Math.sqrt(1 - PERSISTENCE * PERSISTENCE);
  let weather = WEATHER_SD * rng.normal();
  const out: number[] = [];
  for (let d = 0; d < DAYS; d++) {
    if (d > 0) weather = PERSISTENCE * weather + innovation * rng.normal();
    out.push(Math.round((seasonal(d) + weather) * 10) / 10);
  }
  return out;
}
