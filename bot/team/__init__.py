"""Services behind the team and admin screens: invites, referral links and QR codes,
visits and their verification, the village view, questions, broadcasts.

Channel-neutral like the core: no messenger SDK, no HTTP client."""
