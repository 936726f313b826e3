// zod's English messages for the issues no schema words itself: zod/mini loads no locale of its own (classic zod
// loads English), so every module with a zod/mini schema imports this once for its side effect.
import { config } from "zod/mini";
import en from "zod/v4/locales/en.js";

config(en());
