"""The huddle board: a team's ideas in To do / Doing / Done, moved through the one workflow."""
