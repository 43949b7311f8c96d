//+------------------------------------------------------------------+
//|                                               ExportCalendar.mq5 |
//| Exports MetaTrader 5's built-in economic calendar for a date     |
//| range to a CSV file the FX cluster console imports with          |
//|     python main.py import calendar FILE                          |
//|                                                                  |
//| Why a script: the MetaTrader5 Python package has no calendar     |
//| functions, so the terminal itself has to write the file.         |
//|                                                                  |
//| Times: the terminal's calendar is in trade-server time.  Every   |
//| event is written in UTC.  Brokers usually run their server on    |
//| "New York close" time (GMT+2, GMT+3 while the US is on daylight  |
//| saving), so one offset measured today is wrong for half of a     |
//| long range; the AUTO rule uses the New York close calendar when  |
//| today's offset matches it and the measured offset otherwise.     |
//| The rule used is written into the file's first line.             |
//|                                                                  |
//| Output (UTF-8, comma separated, RFC 4180 quoting):               |
//|   # fxcluster mt5 calendar export; from_utc=...; to_utc=...; ... |
//|   time_utc,currency,country,impact,title,actual,forecast,        |
//|   previous,time_mode,event_id,value_id                           |
//| from_utc/to_utc give the exported UTC range: the console treats  |
//| it as fully listed (calendar coverage), so a failed request      |
//| aborts the export rather than writing a file with holes.         |
//+------------------------------------------------------------------+
#property copyright   "FX cluster console"
#property version     "1.00"
#property description "Export the MT5 economic calendar (UTC times) to CSV for the FX cluster console."
#property script_show_inputs

enum ENUM_SERVER_TIME_RULE
  {
   SERVER_TIME_AUTO,      // Auto: New York close if it matches today's offset, else today's offset
   SERVER_TIME_NY_CLOSE,  // New York close: GMT+2, GMT+3 during US daylight saving
   SERVER_TIME_CURRENT,   // Today's measured offset for the whole range
   SERVER_TIME_FIXED      // Fixed offset (hours below)
  };

input datetime              InpFromDay          = D'2024.01.01';            // First day (UTC)
input datetime              InpToDay            = D'2024.12.31';            // Last day, included (UTC)
input string                InpCurrencies       = "";                       // Currencies, comma separated (empty = all)
input ENUM_SERVER_TIME_RULE InpTimeRule         = SERVER_TIME_AUTO;         // Server time rule
input double                InpFixedOffsetHours = 2.0;                      // Fixed server offset, hours (rule Fixed)
input string                InpFileName         = "fxcluster_calendar.csv"; // Output file in MQL5\Files
input bool                  InpCommonFolder     = false;                    // Write to the common Files folder
input int                   InpChunkDays        = 31;                       // Days per calendar request

#define DAY_SECONDS 86400

ENUM_SERVER_TIME_RULE g_rule;
int                   g_measured_offset;   // server - UTC now, seconds, rounded to 15 minutes
string                g_currencies[];

//+------------------------------------------------------------------+
//| Sunday number n (1-based) of a month, at 00:00                   |
//+------------------------------------------------------------------+
datetime NthSunday(const int year, const int month, const int n)
  {
   MqlDateTime first;
   ZeroMemory(first);
   first.year = year;
   first.mon  = month;
   first.day  = 1;
   datetime t = StructToTime(first);
   MqlDateTime parts;
   TimeToStruct(t, parts);
   int to_sunday = (7 - parts.day_of_week) % 7;
   return t + (datetime)((to_sunday + 7 * (n - 1)) * DAY_SECONDS);
  }

//+------------------------------------------------------------------+
//| US daylight saving: 2nd Sunday of March 07:00 UTC to 1st Sunday  |
//| of November 06:00 UTC (02:00 local both times)                   |
//+------------------------------------------------------------------+
bool IsUsDaylightSaving(const datetime utc)
  {
   MqlDateTime parts;
   TimeToStruct(utc, parts);
   datetime starts = NthSunday(parts.year, 3, 2) + 7 * 3600;
   datetime ends   = NthSunday(parts.year, 11, 1) + 6 * 3600;
   return utc >= starts && utc < ends;
  }

int NewYorkCloseOffset(const datetime utc)
  {
   return IsUsDaylightSaving(utc) ? 3 * 3600 : 2 * 3600;
  }

//+------------------------------------------------------------------+
//| server - UTC, in seconds, at a UTC instant                       |
//+------------------------------------------------------------------+
int OffsetAt(const datetime utc)
  {
   switch(g_rule)
     {
      case SERVER_TIME_NY_CLOSE:
         return NewYorkCloseOffset(utc);
      case SERVER_TIME_FIXED:
         return (int)MathRound(InpFixedOffsetHours * 3600.0);
      default:
         return g_measured_offset;
     }
  }

datetime ServerToUtc(const datetime server)
  {
   // The offset is looked up at an estimate of the UTC instant; the estimate can only be
   // wrong inside the hour of a daylight-saving switch.  Offsets may be negative, so the
   // arithmetic is done in long.
   datetime guess    = (datetime)((long)server - g_measured_offset);
   datetime estimate = (datetime)((long)server - OffsetAt(guess));
   return (datetime)((long)server - OffsetAt(estimate));
  }

datetime DayStart(const datetime t)
  {
   return (datetime)(((long)t / DAY_SECONDS) * DAY_SECONDS);
  }

string RuleName(const ENUM_SERVER_TIME_RULE rule)
  {
   switch(rule)
     {
      case SERVER_TIME_NY_CLOSE:
         return "NY_CLOSE";
      case SERVER_TIME_CURRENT:
         return "CURRENT";
      case SERVER_TIME_FIXED:
         return "FIXED";
      default:
         return "AUTO";
     }
  }

//+------------------------------------------------------------------+
//| Formatting                                                       |
//+------------------------------------------------------------------+
string IsoUtc(const datetime t)
  {
   MqlDateTime s;
   TimeToStruct(t, s);
   return StringFormat("%04d-%02d-%02dT%02d:%02d:%02dZ", s.year, s.mon, s.day, s.hour, s.min, s.sec);
  }

string CsvField(string text)
  {
   bool needs_quotes = StringFind(text, ",") >= 0 || StringFind(text, "\"") >= 0 ||
                       StringFind(text, "\n") >= 0 || StringFind(text, "\r") >= 0;
   if(!needs_quotes)
      return text;
   StringReplace(text, "\"", "\"\"");
   return "\"" + text + "\"";
  }

string ImpactName(const MqlCalendarEvent &event)
  {
   if(event.type == CALENDAR_TYPE_HOLIDAY)
      return "HOLIDAY";
   switch(event.importance)
     {
      case CALENDAR_IMPORTANCE_HIGH:
         return "HIGH";
      case CALENDAR_IMPORTANCE_MODERATE:
         return "MEDIUM";
      case CALENDAR_IMPORTANCE_LOW:
         return "LOW";
      default:
         return "NONE";
     }
  }

string TimeModeName(const ENUM_CALENDAR_EVENT_TIMEMODE mode)
  {
   switch(mode)
     {
      case CALENDAR_TIMEMODE_DATE:
         return "ALL_DAY";
      case CALENDAR_TIMEMODE_NOTIME:
         return "NO_TIME";
      case CALENDAR_TIMEMODE_TENTATIVE:
         return "TENTATIVE";
      default:
         return "DATETIME";
     }
  }

//+------------------------------------------------------------------+
//| A calendar value as the calendar shows it: 266K, 0.2%, -4.7B     |
//| (values are stored multiplied by 10^6; LONG_MIN means "none")    |
//+------------------------------------------------------------------+
string FormatValue(const long raw, const MqlCalendarEvent &event)
  {
   if(raw == LONG_MIN)
      return "";
   string text = DoubleToString(raw / 1000000.0, (int)event.digits);
   switch(event.multiplier)
     {
      case CALENDAR_MULTIPLIER_THOUSANDS:
         text += "K";
         break;
      case CALENDAR_MULTIPLIER_MILLIONS:
         text += "M";
         break;
      case CALENDAR_MULTIPLIER_BILLIONS:
         text += "B";
         break;
      case CALENDAR_MULTIPLIER_TRILLIONS:
         text += "T";
         break;
      default:
         break;
     }
   if(event.unit == CALENDAR_UNIT_PERCENT)
      text += "%";
   return text;
  }

bool CurrencyWanted(const string currency)
  {
   int n = ArraySize(g_currencies);
   if(n == 0 || currency == "ALL")
      return true;
   for(int i = 0; i < n; i++)
      if(g_currencies[i] == currency)
         return true;
   return false;
  }

void ParseCurrencies()
  {
   ArrayResize(g_currencies, 0);
   string parts[];
   int n = StringSplit(InpCurrencies, ',', parts);
   for(int i = 0; i < n; i++)
     {
      string code = parts[i];
      StringTrimLeft(code);
      StringTrimRight(code);
      StringToUpper(code);
      if(StringLen(code) == 0)
         continue;
      int size = ArraySize(g_currencies);
      ArrayResize(g_currencies, size + 1);
      g_currencies[size] = code;
     }
  }

//+------------------------------------------------------------------+
//| Write the values of one request chunk; false on a failed request |
//+------------------------------------------------------------------+
bool ExportChunk(const int handle, const datetime server_from, const datetime server_to,
                 const datetime utc_from, const datetime utc_to, int &written)
  {
   MqlCalendarValue values[];
   ResetLastError();
   int count = CalendarValueHistory(values, server_from, server_to);
   int error = GetLastError();
   if(count < 0 || (count == 0 && error != 0))
     {
      PrintFormat("ExportCalendar: CalendarValueHistory(%s .. %s) failed, error %d",
                  TimeToString(server_from), TimeToString(server_to), error);
      return false;
     }
   for(int i = 0; i < count; i++)
     {
      // Chunks are half-open [from, to): a value on the boundary belongs to the next one.
      if(values[i].time >= server_to)
         continue;
      MqlCalendarEvent event;
      MqlCalendarCountry country;
      if(!CalendarEventById(values[i].event_id, event) ||
         !CalendarCountryById(event.country_id, country))
        {
         PrintFormat("ExportCalendar: no description for calendar value %s, error %d",
                     IntegerToString((long)values[i].id), GetLastError());
         return false;
        }
      datetime utc;
      if(event.time_mode == CALENDAR_TIMEMODE_DATETIME)
         utc = ServerToUtc(values[i].time);
      else
         utc = DayStart(values[i].time);  // a day, not an instant: 00:00 UTC of that day
      if(utc < utc_from || utc >= utc_to || !CurrencyWanted(country.currency))
         continue;
      string line = IsoUtc(utc) + "," +
                    CsvField(country.currency) + "," +
                    CsvField(country.code) + "," +
                    ImpactName(event) + "," +
                    CsvField(event.name) + "," +
                    CsvField(FormatValue(values[i].actual_value, event)) + "," +
                    CsvField(FormatValue(values[i].forecast_value, event)) + "," +
                    CsvField(FormatValue(values[i].prev_value, event)) + "," +
                    TimeModeName(event.time_mode) + "," +
                    IntegerToString((long)event.id) + "," +
                    IntegerToString((long)values[i].id) + "\n";
      FileWriteString(handle, line);
      written++;
     }
   return true;
  }

//+------------------------------------------------------------------+
//| Script entry point                                               |
//+------------------------------------------------------------------+
void OnStart()
  {
   datetime utc_from = DayStart(InpFromDay);
   datetime utc_to   = DayStart(InpToDay) + DAY_SECONDS;
   if(utc_to <= utc_from)
     {
      Print("ExportCalendar: the last day is before the first day; nothing exported");
      return;
     }
   if(InpChunkDays < 1)
     {
      Print("ExportCalendar: days per request must be at least 1");
      return;
     }
   ParseCurrencies();

   long measured = (long)(TimeTradeServer() - TimeGMT());
   g_measured_offset = (int)(MathRound(measured / 900.0) * 900);
   g_rule = InpTimeRule;
   if(g_rule == SERVER_TIME_AUTO)
      g_rule = (g_measured_offset == NewYorkCloseOffset(TimeGMT())) ? SERVER_TIME_NY_CLOSE
                                                                   : SERVER_TIME_CURRENT;

   int folder = InpCommonFolder ? FILE_COMMON : 0;
   string partial = InpFileName + ".partial";
   int handle = FileOpen(partial, FILE_WRITE | FILE_TXT | FILE_ANSI | folder, 0, CP_UTF8);
   if(handle == INVALID_HANDLE)
     {
      PrintFormat("ExportCalendar: cannot create %s, error %d", partial, GetLastError());
      return;
     }
   string server = AccountInfoString(ACCOUNT_SERVER);
   StringReplace(server, ";", ",");
   FileWriteString(handle, StringFormat(
                      "# fxcluster mt5 calendar export; from_utc=%s; to_utc=%s; server=%s; "
                      "time_rule=%s; offset_now_s=%d; exported_utc=%s\n",
                      IsoUtc(utc_from), IsoUtc(utc_to), server, RuleName(g_rule),
                      g_measured_offset, IsoUtc(TimeGMT())));
   FileWriteString(handle,
                   "time_utc,currency,country,impact,title,actual,forecast,previous,"
                   "time_mode,event_id,value_id\n");

   // Request a day more on each side in server time, then keep what falls in the UTC range.
   datetime server_end = (datetime)((long)utc_to + OffsetAt(utc_to) + DAY_SECONDS);
   datetime chunk_from = (datetime)((long)utc_from + OffsetAt(utc_from) - DAY_SECONDS);
   int written = 0;
   bool ok = true;
   while(ok && chunk_from < server_end)
     {
      datetime chunk_to = chunk_from + (datetime)(InpChunkDays * DAY_SECONDS);
      if(chunk_to > server_end)
         chunk_to = server_end;
      ok = ExportChunk(handle, chunk_from, chunk_to, utc_from, utc_to, written);
      chunk_from = chunk_to;
     }
   FileClose(handle);

   if(!ok)
     {
      FileDelete(partial, folder);
      Print("ExportCalendar: export aborted; no file written (a partial range would claim "
            "coverage it does not have)");
      return;
     }
   if(!FileMove(partial, folder, InpFileName, folder | FILE_REWRITE))
     {
      PrintFormat("ExportCalendar: cannot rename %s to %s, error %d", partial, InpFileName,
                  GetLastError());
      return;
     }
   PrintFormat("ExportCalendar: %d events %s .. %s UTC written to %s (server time rule %s)",
               written, IsoUtc(utc_from), IsoUtc(utc_to), InpFileName, RuleName(g_rule));
  }
//+------------------------------------------------------------------+
