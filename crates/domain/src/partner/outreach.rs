//! Startup outreach: leads, their stage toward a demonstration in the city, and events (issue 6).
