// Replaced by the setup page (in progress).
import { Hono } from "hono";
import type { AppEnv } from "../env";

export const setupRoutes = new Hono<AppEnv>();
