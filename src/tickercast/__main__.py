from tickercast.cli import main

raise SystemExit(main())
